-- Service satisfaction (满意率) per unit and month: (satisfied + basically satisfied) / surveys that
-- reached the customer, by survey month. The surveys are B2's denominator (int_indicator_events: a
-- survey belongs to its order's station; unreachable ones and those of cancelled orders count
-- nowhere), summed up to county, city and province (never averaged). With the same month a year
-- before and, from the month of the unit's first warning episode on, the change since that month.
with

surveys as (
    select
        events.station_code,
        date_trunc('month', events.event_date)::date as month_from,
        surveys.survey_result in ('satisfied', 'basically_satisfied') as is_satisfied
    from {{ ref('int_indicator_events') }} as events
    inner join {{ ref('stg_appeals__callback_surveys') }} as surveys on events.survey_id = surveys.survey_id
    where events.indicator_code = 'B2' and events.denominator = 1
),

units as (
    select * from {{ ref('dim_org_unit') }}
),

unit_stations as (
    -- every unit a station's surveys count for: itself and its county, city and province company
    select
        stations.org_code as station_code,
        ancestors.org_code
    from units as stations
    inner join units as ancestors
        on
            ancestors.org_code in (
                stations.org_code, stations.county_code, stations.city_code, stations.province_code
            )
    where stations.org_level = 'station'
),

held as (
    select
        min(risk_date) as held_from,
        max(risk_date) as held_through
    from {{ ref('fct_unit_risk_daily') }}
),

monthly as (
    select
        unit_stations.org_code,
        surveys.month_from,
        count(*)::integer as surveys_reached,
        count(*) filter (where surveys.is_satisfied)::integer as surveys_satisfied
    from surveys
    inner join unit_stations on surveys.station_code = unit_stations.station_code
    group by unit_stations.org_code, surveys.month_from
),

first_episodes as (
    select
        unit_stations.org_code,
        date_trunc('month', min(episodes.opened_on))::date as first_episode_month
    from {{ ref('fct_risk_episode') }} as episodes
    inner join unit_stations on episodes.station_code = unit_stations.station_code
    group by unit_stations.org_code
),

rates as (
    select
        monthly.*,
        monthly.surveys_satisfied::numeric / nullif(monthly.surveys_reached, 0) as satisfaction_rate
    from monthly
)

select
    rates.org_code || ':' || rates.month_from as unit_month_id,
    rates.month_from,
    rates.org_code,
    units.org_level,
    rates.surveys_reached,
    rates.surveys_satisfied,
    round(rates.satisfaction_rate, 4) as satisfaction_rate,
    (
        held.held_from <= rates.month_from
        and (rates.month_from + interval '1 month')::date - 1 <= held.held_through
    ) as is_month_complete,
    year_before.surveys_reached as surveys_reached_year_before,
    year_before.surveys_satisfied as surveys_satisfied_year_before,
    round(year_before.satisfaction_rate, 4) as satisfaction_rate_year_before,
    round(100 * (rates.satisfaction_rate - year_before.satisfaction_rate), 2) as satisfaction_change_yoy_pp,
    first_episodes.first_episode_month,
    round(
        case
            when rates.month_from >= first_episodes.first_episode_month
                then 100 * (rates.satisfaction_rate - at_first_episode.satisfaction_rate)
        end,
        2
    ) as satisfaction_change_since_first_episode_pp,
    {{ selected_model_version() }}::text as model_version
from rates
cross join held
inner join units on rates.org_code = units.org_code
left join rates as year_before
    on
        rates.org_code = year_before.org_code
        and (rates.month_from - interval '1 year')::date = year_before.month_from
left join first_episodes on rates.org_code = first_episodes.org_code
left join rates as at_first_episode
    on
        first_episodes.org_code = at_first_episode.org_code
        and first_episodes.first_episode_month = at_first_episode.month_from
