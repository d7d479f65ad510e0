{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='risk_date',
        on_schema_change='fail',
        post_hook="{{ record_followed_build('int_station_indicator_daily') }}",
        indexes=[{'columns': ['risk_date']}, {'columns': ['org_code', 'risk_date']}],
    )
}}
-- Per unit (station, county, city, province), day and indicator: numerator and denominator summed
-- over the stations below the unit (rates are never averaged), the province rate p, the value x
-- (shrunk toward p for small denominators), the score and the weighted score that adds up to R.
with

date_range as (
    {{ risk_date_range(follows='int_station_indicator_daily') }}
),

station_days as (
    select station_days.*
    from {{ ref('int_station_indicator_daily') }} as station_days
    inner join date_range on station_days.risk_date between date_range.date_from and date_range.date_to
),

units as (
    select * from {{ ref('dim_org_unit') }}
),

indicators as (
    select * from {{ ref('stg_risk_model__indicators') }}
),

parameters as (
    select * from {{ ref('stg_risk_model__parameters') }}
),

-- A station as it is; counties, cities and the province sum their stations (one pass, grouping sets).
unit_days as (
    select
        station_days.station_code as org_code,
        'station' as org_level,
        station_days.risk_date,
        station_days.indicator_code,
        station_days.numerator,
        station_days.denominator
    from station_days
    inner join units on station_days.station_code = units.org_code
    union all
    select
        coalesce(units.county_code, units.city_code, units.province_code) as org_code,
        case
            when grouping(units.county_code) = 0 then 'county'
            when grouping(units.city_code) = 0 then 'city'
            else 'province'
        end as org_level,
        station_days.risk_date,
        station_days.indicator_code,
        sum(station_days.numerator) as numerator,
        sum(station_days.denominator) as denominator
    from station_days
    inner join units on station_days.station_code = units.org_code
    group by grouping sets (
        (units.county_code, station_days.risk_date, station_days.indicator_code),
        (units.city_code, station_days.risk_date, station_days.indicator_code),
        (units.province_code, station_days.risk_date, station_days.indicator_code)
    )
),

province_rates as (
    select
        risk_date,
        indicator_code,
        {{ province_rate('sum(numerator)', 'sum(denominator)') }} as province_rate
    from station_days
    group by risk_date, indicator_code
),

valued as (
    select
        unit_days.org_code,
        unit_days.org_level,
        unit_days.risk_date,
        unit_days.indicator_code,
        indicators.dimension_code,
        indicators.upper_limit,
        indicators.weight,
        unit_days.numerator,
        unit_days.denominator,
        province_rates.province_rate,
        {{ indicator_value(
            'indicators.measure_kind', 'indicators.is_shrunk', 'unit_days.numerator',
            'unit_days.denominator', 'province_rates.province_rate', 'parameters.shrinkage_prior_weight'
        ) }} as indicator_value
    from unit_days
    inner join indicators on unit_days.indicator_code = indicators.indicator_code
    inner join province_rates
        on
            unit_days.risk_date = province_rates.risk_date
            and unit_days.indicator_code = province_rates.indicator_code
    cross join parameters
),

scored as (
    select
        *,
        {{ indicator_score('indicator_value', 'upper_limit') }} as indicator_score
    from valued
)

select
    scored.org_code || ':' || scored.indicator_code || ':' || scored.risk_date as unit_indicator_day_id,
    scored.risk_date,
    scored.org_code,
    scored.org_level,
    scored.indicator_code,
    scored.dimension_code,
    scored.numerator,
    scored.denominator,
    round(scored.province_rate, 6) as province_rate,
    round(scored.indicator_value, 4) as indicator_value,
    round(scored.indicator_score, 2) as indicator_score,
    scored.weight,
    -- Unrounded: R and the code are decided on the exact sum of these.
    scored.weight * scored.indicator_score as weighted_score,
    {{ selected_model_version() }}::text as model_version
from scored
