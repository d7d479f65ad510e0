-- Current call records, valid rows only; the caller's phone is hashed (null when it was malformed).
select
    call_id,
    call_time,
    caller_phone_hash,
    customer_no,
    station_code,
    duration_seconds,
    ivr_path,
    agent_id,
    order_no,
    updated_at
from {{ ref('base_appeals__call_records') }}
where is_current_version and quarantine_action is distinct from 'dropped'
