{{ config(indexes=[{'columns': ['training_weak_indicator_id'], 'unique': true}]) }}
-- The training's effect per trained unit and weak indicator next to the units the same rule picked
-- before the loop went live, with the hierarchy's columns the filters and row-level security use.
select
    effect.training_weak_indicator_id,
    effect.plan_on,
    unit_plans.province_code,
    unit_plans.city_code,
    unit_plans.city_name,
    unit_plans.county_code,
    unit_plans.county_name,
    unit_plans.org_code,
    unit_plans.org_name,
    levels.org_level_name_zh as org_level_zh,
    effect.indicator_code,
    indicators.indicator_label_zh as indicator_label,
    effect.gap_before,
    effect.gap_after,
    effect.gap_change,
    effect.comparable_units,
    effect.comparable_gap_before,
    effect.comparable_gap_after,
    effect.comparable_gap_change,
    effect.effect_on_gap,
    effect.model_version
from {{ ref('fct_training_effect') }} as effect
inner join {{ ref('fct_training_plan_unit') }} as unit_plans on effect.training_plan_id = unit_plans.training_plan_id
inner join {{ ref('stg_risk_model__org_levels') }} as levels on effect.org_level = levels.org_level
inner join {{ ref('risk_indicator') }} as indicators on effect.indicator_code = indicators.indicator_code
where {{ published_days('effect.plan_on') }}
