-- What the loop did per city (the effect view): the share of its stations that were red and its
-- satisfaction, in the `training_history_months` whole months before the loop's first targeted action
-- there (the city's first training plan on or after var `closed_loop_live_from`) and in as many whole
-- months from it as the warehouse holds (up to the same number), with the satisfaction of those months
-- a year before (the season's own change). No after month held yet: after_to and the after figures
-- are empty.
with

parameters as (
    select * from {{ ref('stg_closed_loop__parameters') }}
),

held as (
    select max(risk_date) as held_through
    from {{ ref('fct_unit_risk_daily') }}
),

{% set live_from = var("closed_loop_live_from") or "-infinity" %}
first_actions as (
    select
        city_code,
        min(plan_on) as first_action_on
    from {{ ref('fct_training_plan_unit') }}
    where plan_on >= '{{ live_from }}'::date
    group by city_code
),

windows as (
    select
        first_actions.city_code,
        first_actions.first_action_on,
        (first_actions.first_action_on - make_interval(months => parameters.training_history_months))::date
            as before_from,
        first_actions.first_action_on as after_from,
        least(
            (first_actions.first_action_on + make_interval(months => parameters.training_history_months))::date,
            date_trunc('month', held.held_through + 1)::date
        ) as after_to_exclusive
    from first_actions
    cross join parameters
    cross join held
),

station_days as (
    select
        units.city_code,
        risk_days.risk_date,
        avg((risk_days.risk_code = 'red')::integer) as red_share
    from {{ ref('fct_unit_risk_daily') }} as risk_days
    inner join {{ ref('dim_org_unit') }} as units on risk_days.org_code = units.org_code
    where risk_days.org_level = 'station'
    group by units.city_code, risk_days.risk_date
),

red_shares as (
    select
        windows.city_code,
        avg(station_days.red_share) filter (where station_days.risk_date < windows.after_from) as before_share,
        avg(station_days.red_share) filter (where station_days.risk_date >= windows.after_from) as after_share
    from windows
    inner join station_days
        on
            windows.city_code = station_days.city_code
            and windows.before_from <= station_days.risk_date
            and windows.after_to_exclusive > station_days.risk_date
    group by windows.city_code
),

satisfaction_months as (
    -- each month of the before and after windows and of the after months a year before, once
    select
        windows.city_code,
        months.surveys_satisfied,
        months.surveys_reached,
        months.month_from >= windows.before_from and months.month_from < windows.after_from as is_before,
        months.month_from >= windows.after_from and months.month_from < windows.after_to_exclusive as is_after,
        months.month_from >= (windows.after_from - interval '1 year')::date
        and months.month_from < (windows.after_to_exclusive - interval '1 year')::date as is_after_year_before
    from windows
    inner join {{ ref('fct_unit_satisfaction_monthly') }} as months
        on
            windows.city_code = months.org_code
            and (windows.after_from - interval '1 year')::date <= months.month_from
            and windows.after_to_exclusive > months.month_from
),

satisfaction as (
    select
        city_code,
        sum(surveys_satisfied) filter (where is_before)::numeric
        / nullif(sum(surveys_reached) filter (where is_before), 0) as before_rate,
        sum(surveys_satisfied) filter (where is_after)::numeric
        / nullif(sum(surveys_reached) filter (where is_after), 0) as after_rate,
        sum(surveys_satisfied) filter (where is_after_year_before)::numeric
        / nullif(sum(surveys_reached) filter (where is_after_year_before), 0) as after_rate_year_before
    from satisfaction_months
    group by city_code
)

select
    windows.city_code,
    windows.first_action_on,
    windows.before_from,
    windows.after_from - 1 as before_to,
    windows.after_from,
    case when windows.after_to_exclusive > windows.after_from then windows.after_to_exclusive - 1 end as after_to,
    round(red_shares.before_share, 4) as red_share_before,
    round(red_shares.after_share, 4) as red_share_after,
    round(100 * (red_shares.after_share - red_shares.before_share), 2) as red_share_change_pp,
    round(satisfaction.before_rate, 4) as satisfaction_before,
    round(satisfaction.after_rate, 4) as satisfaction_after,
    round(100 * (satisfaction.after_rate - satisfaction.before_rate), 2) as satisfaction_change_pp,
    round(satisfaction.after_rate_year_before, 4) as satisfaction_after_year_before,
    round(100 * (satisfaction.after_rate - satisfaction.after_rate_year_before), 2) as satisfaction_change_yoy_pp,
    {{ selected_model_version() }}::text as model_version
from windows
left join red_shares on windows.city_code = red_shares.city_code
left join satisfaction on windows.city_code = satisfaction.city_code
