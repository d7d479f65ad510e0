-- The indicator catalogue of the selected risk-model version: window, upper limit U, weight, shrinkage.
select
    model_version,
    indicator_code,
    dimension_code,
    indicator_name_zh,
    indicator_name_en,
    measure_kind,
    window_days,
    upper_limit,
    weight,
    is_shrunk
from {{ ref('risk_indicators') }}
where model_version = {{ selected_model_version() }}
