-- What the training did (the effect view): for each weak indicator of a unit on a plan, its gap to the
-- province in the months before the plan and in the plan's month, next to the comparable units not on
-- that month's plan (same level, also above the province on that indicator in the same months): their
-- gap in the same months. The difference of the two changes is the training's effect on the gap
-- (negative: the trained unit closed more of its gap). Plans whose month is held whole only.
with

weak as (
    select * from {{ ref('fct_training_weak_indicator') }}
    where score_gap_after is not null
),

plans as (
    select * from {{ ref('fct_training_plan_unit') }}
),

gaps as (
    select * from {{ ref('int_unit_indicator_monthly_gap') }}
),

comparable_before as (
    -- untrained units of the plan's level with their gap on the indicator over the plan's history
    select
        weak.training_weak_indicator_id,
        gaps.org_code,
        (sum(gaps.unit_score_sum) - sum(gaps.province_score_sum)) / sum(gaps.scored_days) as gap_before
    from weak
    inner join plans on weak.training_plan_id = plans.training_plan_id
    inner join gaps
        on
            plans.org_level = gaps.org_level
            and weak.indicator_code = gaps.indicator_code
            and gaps.month_from between plans.history_from and plans.history_to
    where
        not exists (
            select from plans as trained
            where trained.org_code = gaps.org_code and trained.plan_on = plans.plan_on
        )
    group by weak.training_weak_indicator_id, gaps.org_code
    having sum(gaps.unit_score_sum) > sum(gaps.province_score_sum)
),

comparable as (
    select
        comparable_before.training_weak_indicator_id,
        count(*)::integer as comparable_units,
        avg(comparable_before.gap_before) as gap_before,
        avg((plan_month.unit_score_sum - plan_month.province_score_sum) / plan_month.scored_days) as gap_after
    from comparable_before
    inner join weak on comparable_before.training_weak_indicator_id = weak.training_weak_indicator_id
    inner join gaps as plan_month
        on
            comparable_before.org_code = plan_month.org_code
            and weak.indicator_code = plan_month.indicator_code
            and weak.plan_on = plan_month.month_from
    group by comparable_before.training_weak_indicator_id
)

select
    weak.training_weak_indicator_id,
    weak.training_plan_id,
    weak.plan_on,
    weak.org_code,
    plans.org_level,
    weak.indicator_code,
    weak.score_gap as gap_before,
    weak.score_gap_after as gap_after,
    weak.score_gap_after - weak.score_gap as gap_change,
    coalesce(comparable.comparable_units, 0) as comparable_units,
    round(comparable.gap_before, 2) as comparable_gap_before,
    round(comparable.gap_after, 2) as comparable_gap_after,
    round(comparable.gap_after - comparable.gap_before, 2) as comparable_gap_change,
    round((weak.score_gap_after - weak.score_gap) - (comparable.gap_after - comparable.gap_before), 2)
        as effect_on_gap,
    {{ selected_model_version() }}::text as model_version
from weak
inner join plans on weak.training_plan_id = plans.training_plan_id
left join comparable on weak.training_weak_indicator_id = comparable.training_weak_indicator_id
