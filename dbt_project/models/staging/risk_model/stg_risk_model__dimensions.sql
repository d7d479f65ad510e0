-- The three dimensions of the selected risk-model version with their weights.
select
    model_version,
    dimension_code,
    dimension_name_zh,
    dimension_name_en,
    weight
from {{ ref('risk_dimensions') }}
where model_version = {{ selected_model_version() }}
