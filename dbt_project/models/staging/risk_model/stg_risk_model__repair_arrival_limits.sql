-- Repair crew arrival limits by station area type in the selected risk-model version.
select
    model_version,
    area_type,
    area_type_name_zh,
    arrival_limit_minutes
from {{ ref('repair_arrival_limits') }}
where model_version = {{ selected_model_version() }}
