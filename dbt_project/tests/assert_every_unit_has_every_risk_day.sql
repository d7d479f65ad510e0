-- Every unit of the hierarchy has a published row on every day between the first and the last
-- published day: no unit or day goes missing (levels above stations included).
with

published_days as (
    select generate_series(min(risk_date), max(risk_date), interval '1 day')::date as risk_date
    from {{ ref('fct_unit_risk_daily') }}
),

expected as (
    select
        units.org_code,
        published_days.risk_date
    from {{ ref('dim_org_unit') }} as units
    cross join published_days
)

select expected.org_code, expected.risk_date
from expected
left join {{ ref('fct_unit_risk_daily') }} as published
    on expected.org_code = published.org_code and expected.risk_date = published.risk_date
where published.org_code is null
