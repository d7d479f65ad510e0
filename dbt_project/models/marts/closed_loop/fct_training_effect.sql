-- What the training did (the effect view): for each weak indicator of a unit trained on or after the
-- loop went live (var `closed_loop_live_from`), its gap to the province in the months before the plan
-- and in the plan's month, next to the units the same rule picked before the loop went live, whom
-- nobody trained: their gap on the same indicator and level, before and in their would-be plan's
-- month. The same rule picks both, so both fall back alike from the month that picked them (units
-- merely above the province fall back less, which reads as an effect where nobody was trained); the
-- difference of the two changes is the training's effect (negative: the trained unit closed more of
-- its gap). Plans whose month is held whole only. No go-live day, or no plan before it: no comparison.
{% set live_from = var("closed_loop_live_from") or "-infinity" %}
with

weak as (
    select
        weak.*,
        unit_plans.org_level,
        weak.plan_on >= '{{ live_from }}'::date as is_trained
    from {{ ref('fct_training_weak_indicator') }} as weak
    inner join {{ ref('fct_training_plan_unit') }} as unit_plans on weak.training_plan_id = unit_plans.training_plan_id
    where weak.score_gap_after is not null
),

comparable as (
    select
        org_level,
        indicator_code,
        count(*)::integer as comparable_units,
        avg(score_gap) as gap_before,
        avg(score_gap_after) as gap_after
    from weak
    where not is_trained
    group by org_level, indicator_code
)

select
    weak.training_weak_indicator_id,
    weak.training_plan_id,
    weak.plan_on,
    weak.org_code,
    weak.org_level,
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
left join comparable on weak.org_level = comparable.org_level and weak.indicator_code = comparable.indicator_code
where weak.is_trained
