-- Targeted training (滴灌式培训), the units: on the 1st of each month, every station and county company
-- with more than `training_red_days` red days in the month before, once the warehouse holds that
-- month's last day. A first month the history starts in the middle of counts the days it has (more
-- than 7 there are more than 7 in the month). With how many days the unit has in the
-- `training_history_months` months before the plan (a unit with less history is compared on the days
-- it has).
with

parameters as (
    select * from {{ ref('stg_closed_loop__parameters') }}
),

unit_days as (
    select
        org_code,
        org_level,
        risk_date,
        risk_code,
        date_trunc('month', risk_date)::date as month_from
    from {{ ref('fct_unit_risk_daily') }}
    where org_level in ('station', 'county')
),

held as (
    select max(risk_date) as held_through
    from unit_days
),

months as (
    select
        org_code,
        org_level,
        month_from,
        count(*) filter (where risk_code = 'red')::integer as red_days,
        count(*)::integer as scored_days
    from unit_days
    group by org_code, org_level, month_from
),

plans as (
    select
        months.*,
        (months.month_from + interval '1 month')::date as plan_on,
        (months.month_from + interval '1 month' - make_interval(months => parameters.training_history_months))::date
            as history_from
    from months
    cross join parameters
    cross join held
    where
        months.red_days > parameters.training_red_days
        and (months.month_from + interval '1 month')::date - 1 <= held.held_through
),

history as (
    select
        plans.org_code,
        plans.plan_on,
        sum(months.scored_days)::integer as history_days
    from plans
    inner join months
        on
            plans.org_code = months.org_code
            and plans.history_from <= months.month_from
            and plans.plan_on > months.month_from
    group by plans.org_code, plans.plan_on
)

select
    plans.org_code || ':' || plans.plan_on as training_plan_id,
    plans.plan_on,
    plans.month_from as red_month_from,
    plans.plan_on - 1 as red_month_to,
    plans.history_from,
    plans.plan_on - 1 as history_to,
    plans.org_code,
    plans.org_level,
    units.org_name,
    units.province_code,
    units.city_code,
    units.city_name,
    units.county_code,
    units.county_name,
    plans.red_days,
    history.history_days,
    {{ selected_model_version() }}::text as model_version
from plans
inner join history on plans.org_code = history.org_code and plans.plan_on = history.plan_on
inner join {{ ref('dim_org_unit') }} as units on plans.org_code = units.org_code
