-- A key whose current version was quarantined as dropped is not in staging (checked for the facts
-- the indicators count: orders, surveys, repair tasks and outages).
select 'work_order' as source_table, orders.order_no as row_key
from {{ ref('stg_appeals__work_orders') }} as orders
inner join {{ ref('base_appeals__work_orders') }} as checked
    on orders.order_no = checked.order_no
where checked.is_current_version and checked.quarantine_action = 'dropped'
union all
select 'callback_survey' as source_table, surveys.survey_id as row_key
from {{ ref('stg_appeals__callback_surveys') }} as surveys
inner join {{ ref('base_appeals__callback_surveys') }} as checked
    on surveys.survey_id = checked.survey_id
where checked.is_current_version and checked.quarantine_action = 'dropped'
union all
select 'repair_task' as source_table, tasks.task_id as row_key
from {{ ref('stg_command__repair_tasks') }} as tasks
inner join {{ ref('base_command__repair_tasks') }} as checked
    on tasks.task_id = checked.task_id
where checked.is_current_version and checked.quarantine_action = 'dropped'
union all
select 'outage_event' as source_table, outages.outage_id || '|' || outages.ta_code as row_key
from {{ ref('stg_command__outage_events') }} as outages
inner join {{ ref('base_command__outage_events') }} as checked
    on outages.outage_id = checked.outage_id and outages.ta_code = checked.ta_code
where checked.is_current_version and checked.quarantine_action = 'dropped'
