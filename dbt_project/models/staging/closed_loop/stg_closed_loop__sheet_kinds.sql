-- Kinds of risk report sheet with their labels, in the selected risk-model version.
select
    model_version,
    sheet_kind,
    sheet_kind_name_zh,
    sheet_kind_name_en
from {{ ref('risk_sheet_kinds') }}
where model_version = {{ selected_model_version() }}
