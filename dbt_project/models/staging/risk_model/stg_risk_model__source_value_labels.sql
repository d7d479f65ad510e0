-- Chinese names of the source systems' enumerated values (the closed loop's sheets name values too).
{{ config(grants={'select': [env_var('SR_CLOSED_LOOP_ROLE')]}) }}

select
    enumeration,
    value,
    name_zh
from {{ ref('source_value_labels') }}
