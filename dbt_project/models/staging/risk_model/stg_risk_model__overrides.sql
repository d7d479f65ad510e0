-- The code overrides of the selected risk-model version, described in words.
select
    model_version,
    override_reason,
    raises_to_risk_code,
    description_zh_template,
    description_en_template
from {{ ref('risk_overrides') }}
where model_version = {{ selected_model_version() }}
