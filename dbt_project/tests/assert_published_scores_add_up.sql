-- A published row agrees with its parts: R is the sum of the weighted indicator scores (rounded), and
-- the code follows R by the thresholds unless an override raised it.
with

parts as (
    select
        org_code,
        risk_date,
        sum(weighted_score) as risk_score_exact
    from {{ ref('fct_unit_indicator_daily') }}
    group by org_code, risk_date
),

thresholds as (
    select * from {{ ref('stg_risk_model__code_thresholds') }}
)

select
    published.org_code,
    published.risk_date,
    published.risk_score,
    parts.risk_score_exact,
    published.risk_code
from {{ ref('fct_unit_risk_daily') }} as published
inner join parts on published.org_code = parts.org_code and published.risk_date = parts.risk_date
where
    published.risk_score <> round(parts.risk_score_exact, 2)
    or (
        published.override_reason is null
        and published.risk_code <> (
            select thresholds.risk_code from thresholds
            where parts.risk_score_exact >= thresholds.min_risk_score
            order by thresholds.severity desc limit 1
        )
    )
