-- Warning episodes per unit (station, county, city, province) and day: open at the end of the day by
-- level and feedback state, and opened, escalated and closed that day. Every unit-day of the risk
-- rows has a row (zeros when nothing is open).
with

episode_days as (
    select * from {{ ref('fct_station_episode_daily') }}
),

-- each episode-day counts for its station and every unit above it
unit_episode_days as (
    select
        episode_days.*,
        ancestors.org_code
    from episode_days
    inner join {{ ref('dim_org_unit') }} as units on episode_days.station_code = units.org_code
    cross join
        lateral (
            values (units.org_code), (units.county_code), (units.city_code), (units.province_code)
        ) as ancestors (org_code)
    where ancestors.org_code is not null
),

counted as (
    select
        org_code,
        risk_date,
        count(*) filter (where closed_on is null) as open_episodes,
        count(*) filter (where closed_on is null and level_code = 'red') as open_red_episodes,
        count(*) filter (where closed_on is null and level_code = 'yellow') as open_yellow_episodes,
        count(*) filter (where episode_state = 'awaiting_feedback') as awaiting_feedback_episodes,
        count(*) filter (where episode_state = 'feedback_overdue') as feedback_overdue_episodes,
        count(*) filter (where episode_state = 'awaiting_recovery') as awaiting_recovery_episodes,
        count(*) filter (where opened_on = risk_date) as opened_episodes,
        count(*) filter (where escalated_on = risk_date) as escalated_episodes,
        count(*) filter (where closed_on = risk_date) as closed_episodes
    from unit_episode_days
    group by org_code, risk_date
)

select
    risk.org_code || ':' || risk.risk_date as unit_day_id,
    risk.risk_date,
    risk.org_code,
    risk.org_name,
    risk.org_level,
    risk.province_code,
    risk.city_code,
    risk.city_name,
    risk.county_code,
    risk.county_name,
    {%- for measure in ['open', 'open_red', 'open_yellow', 'awaiting_feedback', 'feedback_overdue',
                        'awaiting_recovery', 'opened', 'escalated', 'closed'] %}
        coalesce(counted.{{ measure }}_episodes, 0)::integer as {{ measure }}_episodes,
    {%- endfor %}
    risk.model_version
from {{ ref('fct_unit_risk_daily') }} as risk
left join counted on risk.org_code = counted.org_code and risk.risk_date = counted.risk_date
