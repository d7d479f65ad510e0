-- Targeted training, the weak indicators (短板) of each unit on the plan: over the months before the
-- plan (fct_training_plan_unit's history), the indicators whose mean score is furthest above the
-- province's mean on the same days (ties: in catalogue order), at most `training_weak_indicator_count`
-- and only those above it. Once the plan's own month is held whole, the same gap over that month says
-- whether the indicator improved after the training.
with

plans as (
    select * from {{ ref('fct_training_plan_unit') }}
),

parameters as (
    select * from {{ ref('stg_closed_loop__parameters') }}
),

scores as (
    select
        org_code,
        risk_date,
        indicator_code,
        indicator_score
    from {{ ref('fct_unit_indicator_daily') }}
),

held as (
    select max(risk_date) as held_through
    from scores
),

periods as (
    -- the months the weak indicators are found in, and the plan's month that shows the effect
    select
        training_plan_id,
        org_code,
        province_code,
        'before' as period,
        history_from as period_from,
        history_to as period_to
    from plans
    union all
    select
        plans.training_plan_id,
        plans.org_code,
        plans.province_code,
        'after' as period,
        plans.plan_on as period_from,
        (plans.plan_on + interval '1 month')::date - 1 as period_to
    from plans
    cross join held
    where (plans.plan_on + interval '1 month')::date - 1 <= held.held_through
),

gaps as (
    select
        periods.training_plan_id,
        periods.period,
        units.indicator_code,
        avg(units.indicator_score) as unit_mean_score,
        avg(province.indicator_score) as province_mean_score
    from periods
    inner join scores as units
        on periods.org_code = units.org_code and units.risk_date between periods.period_from and periods.period_to
    inner join scores as province
        on
            periods.province_code = province.org_code
            and units.risk_date = province.risk_date
            and units.indicator_code = province.indicator_code
    group by periods.training_plan_id, periods.period, units.indicator_code
),

ranked as (
    select
        gaps.*,
        row_number() over (
            partition by gaps.training_plan_id
            order by gaps.unit_mean_score - gaps.province_mean_score desc, gaps.indicator_code asc
        ) as weak_rank
    from gaps
    where gaps.period = 'before' and gaps.unit_mean_score > gaps.province_mean_score
)

select
    ranked.training_plan_id || ':' || ranked.indicator_code as training_weak_indicator_id,
    ranked.training_plan_id,
    plans.plan_on,
    plans.org_code,
    ranked.weak_rank::integer as weak_rank,
    ranked.indicator_code,
    round(ranked.unit_mean_score, 2) as unit_mean_score,
    round(ranked.province_mean_score, 2) as province_mean_score,
    round(ranked.unit_mean_score - ranked.province_mean_score, 2) as score_gap,
    round(plan_month.unit_mean_score, 2) as unit_mean_score_after,
    round(plan_month.unit_mean_score - plan_month.province_mean_score, 2) as score_gap_after,
    plan_month.unit_mean_score - plan_month.province_mean_score
    < ranked.unit_mean_score - ranked.province_mean_score as has_improved,
    {{ selected_model_version() }}::text as model_version
from ranked
cross join parameters
inner join plans on ranked.training_plan_id = plans.training_plan_id
left join gaps as plan_month
    on
        ranked.training_plan_id = plan_month.training_plan_id
        and ranked.indicator_code = plan_month.indicator_code
        and plan_month.period = 'after'
where ranked.weak_rank <= parameters.training_weak_indicator_count
