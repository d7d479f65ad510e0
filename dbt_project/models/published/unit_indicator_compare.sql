{{ config(materialized='table', indexes=[{'columns': ['org_code']}]) }}
-- The ten indicators of every unit on the latest published day against the same day a month
-- earlier (same windows, one month apart): values, scores and the change.
with

latest as (
    select max(risk_date) as risk_date from {{ ref('unit_indicator_daily') }}
)

select
    current_day.risk_date,
    current_day.org_code,
    units.org_name,
    units.org_level,
    units.province_code,
    units.province_name,
    units.city_code,
    units.city_name,
    units.county_code,
    units.county_name,
    units.station_code,
    units.station_name,
    current_day.indicator_code,
    indicators.indicator_label_zh as indicator_label,
    indicators.dimension_name_zh as dimension_zh,
    current_day.indicator_value as current_value,
    current_day.indicator_score as current_score,
    previous_month.risk_date as previous_date,
    previous_month.indicator_value as previous_value,
    previous_month.indicator_score as previous_score,
    current_day.indicator_value - previous_month.indicator_value as value_change
from {{ ref('unit_indicator_daily') }} as current_day
inner join latest on current_day.risk_date = latest.risk_date
inner join {{ ref('org_unit') }} as units on current_day.org_code = units.org_code
inner join {{ ref('risk_indicator') }} as indicators on current_day.indicator_code = indicators.indicator_code
left join {{ ref('unit_indicator_daily') }} as previous_month
    on
        current_day.org_code = previous_month.org_code
        and current_day.indicator_code = previous_month.indicator_code
        and previous_month.risk_date = (latest.risk_date - interval '1 month')::date
