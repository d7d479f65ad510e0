-- Every landed version of every repair task, typed, with the reasons it would be quarantined.
-- Incremental: a night recomputes the tasks that changed or whose order or team did (macros/landing.sql).
{{ config(**incremental_base_config()) }}
{%- set reference_checks = {
    'unknown_reference': is_unknown_reference('order_no', 'known_order'),
    'unknown_team': is_unknown_reference('team_code', 'known_team'),
} %}
{%- set reference_joins = [
    join_known_keys('known_order', 'order_no', ref('stg_appeals__work_orders'), 'order_no'),
    join_known_keys('known_team', 'team_code', ref('stg_marketing__teams'), 'team_code'),
] %}
with

landed as (
    select
        landed_rows.task_id::text as task_id,
        landed_rows.order_no::text as order_no,
        landed_rows.team_code::text as team_code,
        landed_rows.dispatch_time::timestamp as dispatch_time,
        landed_rows.arrive_time::timestamp as arrive_time,
        landed_rows.restore_time::timestamp as restore_time,
        landed_rows.updated_at::timestamp as updated_at,
        {{ landing_columns() }},
        {{ version_key(['task_id'], 'landed_rows') }} as version_key
    from {{ source('command', 'repair_task') }} as landed_rows
    {{ join_batches() }}
    {% if is_incremental() %}
        {{ versions_to_build(source('command', 'repair_task'), ['task_id'], reference_checks, reference_joins) }}
    {% endif %}
),

ranked as (
    select
        *,
        {{ version_ranks(['task_id']) }}
    from landed
),

checked as (
    select
        ranked.*,
        {{ reference_checks['unknown_team'] }} as is_team_unknown,
        {{ quarantine_reasons({
            'duplicate_key': 'version_in_batch > 1',
            'future_timestamp': is_future(['dispatch_time', 'arrive_time', 'restore_time']),
            'missing_value': is_missing(['task_id', 'order_no']),
            'unknown_reference': reference_checks['unknown_reference'],
            'end_before_start': 'arrive_time < dispatch_time or restore_time < dispatch_time',
            'implausible_timestamp': is_implausible(['dispatch_time', 'arrive_time', 'restore_time']),
            'unknown_team': reference_checks['unknown_team'],
        }) }} as quarantine_reasons
    from ranked
    {{ reference_joins | join('\n    ') }}
)

select
    *,
    {{ quarantine_action('quarantine_reasons') }} as quarantine_action
from checked
