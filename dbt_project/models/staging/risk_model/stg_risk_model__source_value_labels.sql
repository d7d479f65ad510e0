-- Chinese names of the source systems' enumerated values.
select
    enumeration,
    value,
    name_zh
from {{ ref('source_value_labels') }}
