-- The scalar parameters of the selected risk-model version (one row).
select
    model_version,
    shrinkage_prior_weight,
    repeat_window_hours,
    repeat_window_hours_fault_repair,
    a3_complaint_weight,
    a3_escalated_channel_weight,
    a3_severe_complaint_weight,
    override_window_days,
    override_yellow_min_orders,
    override_red_min_orders
from {{ ref('risk_parameters') }}
where model_version = {{ selected_model_version() }}
