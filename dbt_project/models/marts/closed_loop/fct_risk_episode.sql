-- One row per warning episode (风险预警): its opening (day, code, R, worst indicators), escalation,
-- sheets, feedback and closure, in its state as of its latest built day.
with

episode_days as (
    select * from {{ ref('fct_station_episode_daily') }}
),

parameters as (
    select * from {{ ref('stg_closed_loop__parameters') }}
),

latest as (
    select distinct on (episode_id) *
    from episode_days
    order by episode_id asc, risk_date desc
),

opening as (
    select
        episode_id,
        risk_score as opening_risk_score
    from episode_days
    where risk_date = opened_on
),

first_answers as (
    select
        episode_id,
        min(feedback_received_at) as first_feedback_at
    from episode_days
    group by episode_id
),

-- The indicators with the highest scores on the opening day (ties: in catalogue order).
worst as (
    select
        latest.episode_id,
        array_agg(indicators.indicator_code order by indicators.indicator_score desc, indicators.indicator_code asc)
            as codes,
        array_agg(indicators.indicator_score order by indicators.indicator_score desc, indicators.indicator_code asc)
            as scores
    from latest
    inner join {{ ref('fct_unit_indicator_daily') }} as indicators
        on latest.station_code = indicators.org_code and latest.opened_on = indicators.risk_date
    group by latest.episode_id
)

select
    latest.episode_id,
    latest.station_code,
    latest.station_name,
    latest.county_code,
    latest.county_name,
    latest.city_code,
    latest.city_name,
    latest.province_code,
    latest.opened_on,
    latest.opening_code,
    opening.opening_risk_score,
    {%- for rank in range(1, 4) %}
        case when {{ rank }} <= parameters.sheet_worst_indicator_count then worst.codes[{{ rank }}] end
            as worst_indicator_{{ rank }},
        case when {{ rank }} <= parameters.sheet_worst_indicator_count then worst.scores[{{ rank }}] end
            as worst_indicator_{{ rank }}_score,
    {%- endfor %}
    latest.escalated_on,
    latest.level_code,
    latest.sheet_on as last_sheet_on,
    latest.feedback_due_at,
    first_answers.first_feedback_at,
    latest.feedback_received_at,
    latest.is_feedback_late,
    latest.is_feedback_overdue,
    latest.feedback_cause,
    latest.feedback_measures,
    latest.expected_recovery_date,
    latest.closed_on,
    latest.risk_date as as_of_date,
    latest.risk_code as current_code,
    latest.risk_score as current_risk_score,
    latest.days_open,
    latest.episode_state,
    latest.episode_state_name_zh,
    latest.episode_state_order,
    latest.model_version
from latest
cross join parameters
inner join opening on latest.episode_id = opening.episode_id
inner join first_answers on latest.episode_id = first_answers.episode_id
left join worst on latest.episode_id = worst.episode_id
