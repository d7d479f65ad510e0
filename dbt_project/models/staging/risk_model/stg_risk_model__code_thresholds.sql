-- The lowest risk score of each code (red, yellow, green) in the selected risk-model version.
select
    model_version,
    risk_code,
    risk_code_name_zh,
    risk_code_name_en,
    min_risk_score,
    severity
from {{ ref('risk_code_thresholds') }}
where model_version = {{ selected_model_version() }}
