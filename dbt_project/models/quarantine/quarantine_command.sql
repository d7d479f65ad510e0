-- Landed service-command rows that failed a check: one row per landed version and reason.
{{ quarantined_rows('outage_event', ref('base_command__outage_events'), ['outage_id', 'ta_code']) }}
union all
{{ quarantined_rows('repair_task', ref('base_command__repair_tasks'), ['task_id']) }}
