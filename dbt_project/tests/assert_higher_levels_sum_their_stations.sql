-- A county, city or province sums the numerators and denominators of the stations below it (it never
-- averages their rates).
with

station_sums as (
    select
        units.org_code,
        station_days.risk_date,
        station_days.indicator_code,
        sum(station_days.numerator) as numerator,
        sum(station_days.denominator) as denominator
    from {{ ref('fct_unit_indicator_daily') }} as station_days
    inner join {{ ref('dim_org_unit') }} as stations
        on station_days.org_code = stations.org_code and stations.org_level = 'station'
    inner join {{ ref('dim_org_unit') }} as units
        on units.org_code in (stations.county_code, stations.city_code, stations.province_code)
    group by units.org_code, station_days.risk_date, station_days.indicator_code
)

select
    unit_days.org_code,
    unit_days.risk_date,
    unit_days.indicator_code
from {{ ref('fct_unit_indicator_daily') }} as unit_days
inner join station_sums
    on
        unit_days.org_code = station_sums.org_code
        and unit_days.risk_date = station_sums.risk_date
        and unit_days.indicator_code = station_sums.indicator_code
where
    unit_days.org_level <> 'station'
    and (
        unit_days.numerator <> station_sums.numerator
        or unit_days.denominator <> station_sums.denominator
    )
