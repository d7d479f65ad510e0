-- Current repair tasks (抢修) with dispatch, arrival and restoration times, valid rows only.
select
    task_id,
    order_no,
    case when not is_team_unknown then team_code end as team_code,
    dispatch_time,
    arrive_time,
    restore_time,
    updated_at
from {{ ref('base_command__repair_tasks') }}
where is_current_version and quarantine_action is distinct from 'dropped'
