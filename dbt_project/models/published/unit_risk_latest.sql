{{ config(materialized='table', indexes=[{'columns': ['org_code'], 'unique': true}, {'columns': ['org_level']}]) }}
-- Every unit on the latest published day: score, code, days in the current code and its three
-- worst (highest-scoring) indicators, named from the seeds.
with

latest as (
    select max(risk_date) as risk_date from {{ ref('unit_risk_daily') }}
),

today as (
    select risk.*
    from {{ ref('unit_risk_daily') }} as risk
    inner join latest on risk.risk_date = latest.risk_date
),

-- Days in the current code: since the last day with another code (else since the first scored day).
streaks as (
    select
        today.org_code,
        today.risk_date - coalesce(
            max(history.risk_date) filter (where history.risk_code <> today.risk_code),
            min(history.risk_date) - 1
        ) as days_in_code
    from today
    inner join {{ ref('unit_risk_daily') }} as history on today.org_code = history.org_code
    group by today.org_code, today.risk_date
),

ranked as (
    select
        scores.org_code,
        indicators.indicator_name_zh || '（' || to_char(scores.indicator_score, 'FM990.0') || '）'
            as indicator_label,
        row_number() over (
            partition by scores.org_code order by scores.indicator_score desc, scores.indicator_code asc
        ) as worst_rank
    from {{ ref('unit_indicator_daily') }} as scores
    inner join latest on scores.risk_date = latest.risk_date
    inner join {{ ref('risk_indicator') }} as indicators on scores.indicator_code = indicators.indicator_code
),

worst as (
    select
        org_code,
        max(indicator_label) filter (where worst_rank = 1) as worst_indicator_1,
        max(indicator_label) filter (where worst_rank = 2) as worst_indicator_2,
        max(indicator_label) filter (where worst_rank = 3) as worst_indicator_3
    from ranked
    where worst_rank <= 3
    group by org_code
)

select
    today.risk_date,
    today.org_code,
    today.org_name,
    today.org_level,
    units.org_level_zh,
    units.org_level_rank,
    today.province_code,
    today.province_name,
    today.city_code,
    today.city_name,
    today.county_code,
    today.county_name,
    units.station_code,
    units.station_name,
    units.customer_count,
    today.intensity_score,
    today.quality_score,
    today.efficiency_score,
    today.risk_score,
    today.risk_code,
    codes.risk_code_name_zh as risk_code_zh,
    streaks.days_in_code,
    worst.worst_indicator_1,
    worst.worst_indicator_2,
    worst.worst_indicator_3,
    today.override_reason,
    today.is_warm_up
from today
inner join {{ ref('org_unit') }} as units on today.org_code = units.org_code
inner join {{ ref('risk_code') }} as codes on today.risk_code = codes.risk_code
inner join streaks on today.org_code = streaks.org_code
left join worst on today.org_code = worst.org_code
