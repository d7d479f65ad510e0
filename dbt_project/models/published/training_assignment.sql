{{
    config(
        indexes=[{'columns': ['assignment_id'], 'unique': true}, {'columns': ['training_plan_id']}],
        grants={'select': [env_var('SR_CLOSED_LOOP_ROLE')]},
    )
}}
-- Who of a unit on the training plan is pushed which course, for the plan's mail and its completion
-- form: the closed loop's alone (staff ids; the names it reads from the contacts), not BI's, whose
-- training_plan has the counts.
select
    assignments.assignment_id,
    assignments.training_plan_id,
    assignments.plan_on,
    assignments.org_code,
    assignments.indicator_code,
    indicators.indicator_label_zh as indicator_label,
    assignments.course_code,
    training_courses.course_title_zh,
    training_courses.course_hours,
    assignments.staff_id,
    assignments.staff_rank,
    assignments.orders_behind,
    assignments.indicator_orders,
    assignments.team_code,
    teams.team_name,
    assignments.is_completed::integer as is_completed,
    assignments.completed_on,
    assignments.completion_recorded_at,
    assignments.model_version
from {{ ref('fct_training_assignment') }} as assignments
inner join {{ ref('fct_training_plan_unit') }} as unit_plans
    on assignments.training_plan_id = unit_plans.training_plan_id
inner join {{ ref('stg_closed_loop__training_courses') }} as training_courses
    on assignments.course_code = training_courses.course_code
inner join {{ ref('risk_indicator') }} as indicators on assignments.indicator_code = indicators.indicator_code
left join {{ ref('stg_marketing__teams') }} as teams on assignments.team_code = teams.team_code
where {{ published_days('unit_plans.red_month_to') }}
