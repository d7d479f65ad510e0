{{
    config(
        indexes=[{'columns': ['training_weak_indicator_id'], 'unique': true}, {'columns': ['city_code', 'plan_on']}]
    )
}}
-- The monthly targeted-training plans (滴灌式培训) of the months the gate has passed: one row per unit
-- on the plan and weak indicator, with the courses, how many staff are pushed them, how many of the
-- assignments the completion form says done and, a month later, whether the indicator improved.
-- Counts only: who is pushed a course stays with the closed loop (published.training_assignment).
with

assignments as (
    select
        assignments.training_plan_id,
        assignments.indicator_code,
        count(distinct assignments.staff_id)::integer as staff_count,
        count(*)::integer as assignment_count,
        count(*) filter (where assignments.is_completed)::integer as completed_count,
        string_agg(distinct courses.course_title_zh, '；') as course_titles_zh
    from {{ ref('fct_training_assignment') }} as assignments
    inner join {{ ref('stg_closed_loop__training_courses') }} as courses
        on assignments.course_code = courses.course_code
    group by assignments.training_plan_id, assignments.indicator_code
),

plan_orders as (
    select
        training_plan_id,
        indicator_code,
        count(*)::integer as orders_behind
    from {{ ref('fct_training_order') }}
    group by training_plan_id, indicator_code
)

select
    weak.training_weak_indicator_id,
    weak.training_plan_id,
    unit_plans.plan_on,
    unit_plans.red_month_from,
    unit_plans.red_month_to,
    unit_plans.province_code,
    unit_plans.city_code,
    unit_plans.city_name,
    unit_plans.county_code,
    unit_plans.county_name,
    unit_plans.org_code,
    unit_plans.org_name,
    levels.org_level_name_zh as org_level_zh,
    unit_plans.red_days,
    unit_plans.history_days,
    weak.weak_rank,
    weak.indicator_code,
    indicators.indicator_label_zh as indicator_label,
    weak.unit_mean_score,
    weak.province_mean_score,
    weak.score_gap,
    coalesce(plan_orders.orders_behind, 0) as orders_behind,
    assignments.course_titles_zh,
    coalesce(assignments.staff_count, 0) as staff_count,
    coalesce(assignments.assignment_count, 0) as assignment_count,
    coalesce(assignments.completed_count, 0) as completed_count,
    weak.unit_mean_score_after,
    weak.score_gap_after,
    weak.has_improved::integer as is_improved,
    weak.model_version
from {{ ref('fct_training_weak_indicator') }} as weak
inner join {{ ref('fct_training_plan_unit') }} as unit_plans on weak.training_plan_id = unit_plans.training_plan_id
inner join {{ ref('stg_risk_model__org_levels') }} as levels on unit_plans.org_level = levels.org_level
inner join {{ ref('risk_indicator') }} as indicators on weak.indicator_code = indicators.indicator_code
left join assignments
    on weak.training_plan_id = assignments.training_plan_id and weak.indicator_code = assignments.indicator_code
left join plan_orders
    on weak.training_plan_id = plan_orders.training_plan_id and weak.indicator_code = plan_orders.indicator_code
where {{ published_days('unit_plans.red_month_to') }}
