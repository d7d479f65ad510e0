-- Each station's and county company's indicator scores against the province's on the same days, summed
-- per month: the days scored and the sums of the unit's and the province's scores. Any span of whole
-- months then gives the mean gap to the province without reading the daily rows again (the training
-- effect compares trained units with comparable untrained ones this way).
select
    units.org_code,
    units.org_level,
    date_trunc('month', units.risk_date)::date as month_from,
    units.indicator_code,
    count(*)::integer as scored_days,
    sum(units.indicator_score) as unit_score_sum,
    sum(province.indicator_score) as province_score_sum
from {{ ref('fct_unit_indicator_daily') }} as units
inner join {{ ref('dim_org_unit') }} as org on units.org_code = org.org_code
inner join {{ ref('fct_unit_indicator_daily') }} as province
    on
        org.province_code = province.org_code
        and units.risk_date = province.risk_date
        and units.indicator_code = province.indicator_code
where units.org_level in ('station', 'county')
group by units.org_code, units.org_level, date_trunc('month', units.risk_date), units.indicator_code
