-- Outage types and whether they count for the frequent-outage warning, in the selected risk-model version.
select
    model_version,
    outage_type,
    outage_type_name_zh,
    outage_type_name_en,
    counts_for_warning
from {{ ref('outage_types') }}
where model_version = {{ selected_model_version() }}
