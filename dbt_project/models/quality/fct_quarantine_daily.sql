{{ config(materialized='table', schema='quality', post_hook="{{ analyze_table() }}") }}
-- Quarantined landed rows counted per source table, reason, action and landing day (Asia/Shanghai),
-- so a dashboard can show how much dirt each extract brought and what the pipeline did with it.
with

quarantined as (
    select
        'marketing' as source_system,
        source_table,
        reason,
        quarantine_action,
        loaded_at,
        row_key
    from {{ ref('quarantine_marketing') }}
    union all
    select
        'appeals' as source_system,
        source_table,
        reason,
        quarantine_action,
        loaded_at,
        row_key
    from {{ ref('quarantine_appeals') }}
    union all
    select
        'command' as source_system,
        source_table,
        reason,
        quarantine_action,
        loaded_at,
        row_key
    from {{ ref('quarantine_command') }}
)

select
    (loaded_at at time zone 'Asia/Shanghai')::date as quarantine_date,
    source_system,
    source_table,
    reason,
    quarantine_action,
    count(*) as row_count,
    count(distinct row_key) as key_count
from quarantined
group by
    (loaded_at at time zone 'Asia/Shanghai')::date,
    source_system,
    source_table,
    reason,
    quarantine_action
