-- The closed loop's numbers of the selected risk-model version (one row); the sheets read them.
{{ config(grants={'select': [env_var('SR_CLOSED_LOOP_ROLE')]}) }}
select
    model_version,
    closure_green_days,
    sheet_worst_indicator_count,
    sheet_trend_days,
    sheet_orders_per_indicator,
    interview_red_days,
    reopen_window_days,
    training_red_days,
    training_history_months,
    training_weak_indicator_count,
    training_staff_per_unit
from {{ ref('closed_loop_parameters') }}
where model_version = {{ selected_model_version() }}
