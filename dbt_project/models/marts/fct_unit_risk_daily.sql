{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='risk_date',
        on_schema_change='fail',
        post_hook="{{ record_followed_build('int_station_indicator_daily') }}",
        indexes=[{'columns': ['risk_date']}],
    )
}}
-- The published risk of every unit (station, county, city, province) and day: the ten values and
-- scores, the three dimension scores, R, the code (red/yellow/green) and the override that raised it.
-- The code is decided on the unrounded R; overrides apply to stations only. Warm-up days (partial
-- windows at the start of the history) are flagged, not left out: the dashboards choose.
with

date_range as (
    {{ risk_date_range(follows='int_station_indicator_daily') }}
),

indicator_days as (
    select indicator_days.*
    from {{ ref('fct_unit_indicator_daily') }} as indicator_days
    inner join date_range on indicator_days.risk_date between date_range.date_from and date_range.date_to
),

dimensions as (
    select * from {{ ref('stg_risk_model__dimensions') }}
),

thresholds as (
    select * from {{ ref('stg_risk_model__code_thresholds') }}
),

parameters as (
    select * from {{ ref('stg_risk_model__parameters') }}
),

-- Warm-up: until the longest indicator window fits into the history (which starts on the first day
-- with orders, whatever range this run computes), some windows are partial and the scores ramp up.
warm_up as (
    select date_range.first_data_day + max(indicators.window_days) - 1 as first_full_window_day
    from date_range
    cross join {{ ref('stg_risk_model__indicators') }} as indicators
    group by date_range.first_data_day
),

-- Dimension score: the weighted mean of its indicators' scores (0-100), i.e. their weighted scores
-- over the dimension's weight; R is the sum of all weighted scores.
unit_days as (
    select
        indicator_days.org_code,
        indicator_days.risk_date,
        {%- for code in indicator_codes() %}
            max(indicator_days.indicator_value) filter (
                where indicator_days.indicator_code = '{{ code }}'
            ) as {{ code | lower }}_value,
            max(indicator_days.indicator_score) filter (
                where indicator_days.indicator_code = '{{ code }}'
            ) as {{ code | lower }}_score,
        {%- endfor %}
        {%- for dimension in ['intensity', 'quality', 'efficiency'] %}
            sum(indicator_days.weighted_score) filter (where indicator_days.dimension_code = '{{ dimension }}')
            / max(dimensions.weight) filter (
                where dimensions.dimension_code = '{{ dimension }}'
            ) as {{ dimension }}_score_exact,
        {%- endfor %}
        sum(indicator_days.weighted_score) as risk_score_exact
    from indicator_days
    inner join dimensions on indicator_days.dimension_code = dimensions.dimension_code
    group by indicator_days.org_code, indicator_days.risk_date
),

-- Orders behind an override: complaints of level special or major, or from the 12398 hotline,
-- accepted in the override window; each order counts once.
override_orders as (
    select
        orders.station_code,
        (orders.accept_date + window_day.offset_days)::date as risk_date,
        count(*) as override_order_count
    from {{ ref('int_work_order_facts') }} as orders
    cross join parameters
    cross join lateral generate_series(0, parameters.override_window_days - 1) as window_day (offset_days)
    where orders.is_override_trigger
    group by orders.station_code, (orders.accept_date + window_day.offset_days)::date
),

coded as (
    select
        unit_days.*,
        units.org_name,
        units.org_level,
        units.province_code,
        units.province_name,
        units.city_code,
        units.city_name,
        units.county_code,
        units.county_name,
        coalesce(override_orders.override_order_count, 0) as override_order_count,
        (
            select thresholds.risk_code from thresholds
            where unit_days.risk_score_exact >= thresholds.min_risk_score
            order by thresholds.severity desc limit 1
        ) as score_code,
        case
            when units.org_level <> 'station' then null
            when override_orders.override_order_count >= parameters.override_red_min_orders then 'red'
            when override_orders.override_order_count >= parameters.override_yellow_min_orders then 'yellow'
        end as override_code
    from unit_days
    inner join {{ ref('dim_org_unit') }} as units on unit_days.org_code = units.org_code
    cross join parameters
    left join override_orders
        on
            unit_days.org_code = override_orders.station_code
            and unit_days.risk_date = override_orders.risk_date
),

decided as (
    select
        coded.*,
        score_thresholds.severity as score_severity,
        override_thresholds.severity as override_severity
    from coded
    inner join thresholds as score_thresholds on coded.score_code = score_thresholds.risk_code
    left join thresholds as override_thresholds on coded.override_code = override_thresholds.risk_code
)

select
    decided.org_code || ':' || decided.risk_date as unit_day_id,
    decided.risk_date,
    decided.org_code,
    decided.org_name,
    decided.org_level,
    decided.province_code,
    decided.province_name,
    decided.city_code,
    decided.city_name,
    decided.county_code,
    decided.county_name,
    {%- for code in indicator_codes() %}
        decided.{{ code | lower }}_value,
    {%- endfor %}
    {%- for code in indicator_codes() %}
        decided.{{ code | lower }}_score,
    {%- endfor %}
    round(decided.intensity_score_exact, 2) as intensity_score,
    round(decided.quality_score_exact, 2) as quality_score,
    round(decided.efficiency_score_exact, 2) as efficiency_score,
    round(decided.risk_score_exact, 2) as risk_score,
    decided.override_order_count::integer as override_order_count,
    case
        when decided.override_severity > decided.score_severity then decided.override_code
        else decided.score_code
    end as risk_code,
    -- Only an override that raised the code is recorded; R itself is kept as scored.
    case
        when decided.override_severity > decided.score_severity
            then 'severe_orders_to_' || decided.override_code
    end as override_reason,
    decided.risk_date < warm_up.first_full_window_day as is_warm_up,
    {{ selected_model_version() }}::text as model_version
from decided
cross join warm_up
