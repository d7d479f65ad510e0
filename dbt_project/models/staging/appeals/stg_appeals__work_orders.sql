-- Current work orders, valid rows only; the caller's phone is hashed (null when it was malformed) and
-- the free text masked.
select
    order_no,
    channel,
    order_type,
    category,
    complaint_level,
    customer_no,
    caller_phone_hash,
    caller_phone_masked,
    station_code,
    ta_code,
    parent_order_no,
    accept_time,
    deadline_time,
    reply_time,
    finish_time,
    order_status,
    return_count,
    case when not is_handler_team_unknown then handler_team_code end as handler_team_code,
    handler_staff_id,
    content_masked,
    created_at,
    updated_at
from {{ ref('base_appeals__work_orders') }}
where is_current_version and quarantine_action is distinct from 'dropped'
