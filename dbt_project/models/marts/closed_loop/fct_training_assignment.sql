-- Targeted training, who is pushed which course: per unit on the plan, the staff who handled the most
-- orders behind its weak indicators (fct_training_order; at most `training_staff_per_unit`, all who tie
-- at the last place included) get the courses mapped to each weak indicator they handled orders of.
-- A weak indicator none of them handled (A4 has no orders) gets its courses once for the unit, for
-- its leader to assign (no staff). With the latest answer of the completion form.
with

parameters as (
    select * from {{ ref('stg_closed_loop__parameters') }}
),

weak as (
    select * from {{ ref('fct_training_weak_indicator') }}
),

handled as (
    select * from {{ ref('fct_training_order') }}
    where handler_staff_id is not null
),

staff as (
    select
        training_plan_id,
        handler_staff_id as staff_id,
        count(distinct order_no)::integer as orders_behind,
        mode() within group (order by handler_team_code) as team_code
    from handled
    group by training_plan_id, handler_staff_id
),

ranked_staff as (
    select
        staff.*,
        rank() over (partition by staff.training_plan_id order by staff.orders_behind desc)::integer as staff_rank
    from staff
),

top_staff as (
    select ranked_staff.*
    from ranked_staff
    cross join parameters
    where ranked_staff.staff_rank <= parameters.training_staff_per_unit
),

staff_indicators as (
    select
        top_staff.training_plan_id,
        top_staff.staff_id,
        top_staff.staff_rank,
        top_staff.orders_behind,
        top_staff.team_code,
        handled.indicator_code,
        count(*)::integer as indicator_orders
    from top_staff
    inner join handled
        on top_staff.training_plan_id = handled.training_plan_id and top_staff.staff_id = handled.handler_staff_id
    group by
        top_staff.training_plan_id,
        top_staff.staff_id,
        top_staff.staff_rank,
        top_staff.orders_behind,
        top_staff.team_code,
        handled.indicator_code
),

learners as (
    select
        weak.training_plan_id,
        weak.plan_on,
        weak.org_code,
        weak.indicator_code,
        staff_indicators.staff_id,
        staff_indicators.staff_rank,
        staff_indicators.orders_behind,
        staff_indicators.indicator_orders,
        staff_indicators.team_code
    from weak
    left join staff_indicators
        on
            weak.training_plan_id = staff_indicators.training_plan_id
            and weak.indicator_code = staff_indicators.indicator_code
),

assignments as (
    select
        learners.training_plan_id || ':' || courses.course_code || ':' || coalesce(learners.staff_id, 'unit')
            as assignment_id,
        learners.*,
        courses.course_code
    from learners
    inner join {{ ref('stg_closed_loop__training_courses') }} as courses
        on learners.indicator_code = courses.indicator_code
),

answers as (
    select distinct on (assignment_id) *
    from {{ ref('stg_closed_loop__training_completions') }}
    order by assignment_id asc, received_at desc, completion_id desc
)

select
    assignments.assignment_id,
    assignments.training_plan_id,
    assignments.plan_on,
    assignments.org_code,
    assignments.indicator_code,
    assignments.course_code,
    assignments.staff_id,
    assignments.staff_rank,
    assignments.orders_behind,
    assignments.indicator_orders,
    assignments.team_code,
    coalesce(answers.is_completed, false) as is_completed,
    answers.completed_on,
    answers.received_at as completion_recorded_at,
    {{ selected_model_version() }}::text as model_version
from assignments
left join answers on assignments.assignment_id = answers.assignment_id
