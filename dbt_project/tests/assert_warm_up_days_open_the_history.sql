-- is_warm_up marks exactly the days before the longest indicator window fits into the history (which
-- starts on the first day with orders), on every row, also after incremental runs: a flag left from a
-- build before the first day moved would show here.
with

history as (
    select min(accept_date) as first_day from {{ ref('int_work_order_facts') }}
),

longest_window as (
    select max(window_days) as window_days
    from {{ ref('risk_indicators') }}
    where model_version = {{ selected_model_version() }}
)

select
    published.org_code,
    published.risk_date,
    published.is_warm_up
from {{ ref('fct_unit_risk_daily') }} as published
cross join history
cross join longest_window
where published.is_warm_up is distinct from (
    published.risk_date < history.first_day + longest_window.window_days - 1
)
