{{ config(materialized='view') }}
-- The published risk rows as the dashboards' trends and tables show them: every unit and day after
-- the warm-up (is_warm_up: partial windows, a ramp that is not a deterioration) with names of its
-- level, code and override from the seeds, and days_ago (days before the latest published day, for
-- "last N days" filters without a subquery in Superset).
select
    risk.risk_date,
    (select max(latest.risk_date) from {{ ref('unit_risk_daily') }} as latest) - risk.risk_date as days_ago,
    risk.org_code,
    risk.org_name,
    risk.org_level,
    units.org_level_zh,
    risk.province_code,
    risk.province_name,
    risk.city_code,
    risk.city_name,
    risk.county_code,
    risk.county_name,
    units.station_code,
    units.station_name,
    units.customer_count,
    {%- for code in indicator_codes() %}
        risk.{{ code | lower }}_value,
    {%- endfor %}
    {%- for code in indicator_codes() %}
        risk.{{ code | lower }}_score,
    {%- endfor %}
    risk.intensity_score,
    risk.quality_score,
    risk.efficiency_score,
    risk.risk_score,
    risk.risk_code,
    codes.risk_code_name_zh as risk_code_zh,
    risk.override_order_count,
    overrides.override_description_zh as override_reason_zh,
    risk.model_version
from {{ ref('unit_risk_daily') }} as risk
inner join {{ ref('org_unit') }} as units on risk.org_code = units.org_code
inner join {{ ref('risk_code') }} as codes on risk.risk_code = codes.risk_code
left join {{ ref('risk_code') }} as overrides on risk.override_reason = overrides.override_reason
where not risk.is_warm_up
