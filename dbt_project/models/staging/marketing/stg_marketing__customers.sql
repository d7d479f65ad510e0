-- Current customers, valid rows only; name, mobile and address masked or hashed (never in clear).
select
    customer_no,
    customer_name_masked,
    mobile_hash,
    mobile_masked,
    address_masked,
    station_code,
    ta_code,
    customer_type,
    created_at,
    updated_at
from {{ ref('base_marketing__customers') }}
where is_current_version and quarantine_action is distinct from 'dropped'
