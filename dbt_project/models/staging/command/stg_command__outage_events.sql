-- Current outage rows (one per outage and transformer area), valid rows only.
select
    outage_id,
    ta_code,
    outage_type,
    station_code,
    feeder_name,
    start_time,
    planned_end_time,
    end_time,
    notice_time,
    affected_customers,
    cause,
    updated_at
from {{ ref('base_command__outage_events') }}
where is_current_version and quarantine_action is distinct from 'dropped'
