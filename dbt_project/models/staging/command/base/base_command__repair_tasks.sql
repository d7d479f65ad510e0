-- Every landed version of every repair task, typed, with the reasons it would be quarantined.
with

landed as (
    select
        landed_rows.task_id::text as task_id,
        landed_rows.order_no::text as order_no,
        landed_rows.team_code::text as team_code,
        {{ is_unknown_reference('landed_rows.team_code::text', 'known_team') }}
            as is_team_unknown,
        landed_rows.dispatch_time::timestamp as dispatch_time,
        landed_rows.arrive_time::timestamp as arrive_time,
        landed_rows.restore_time::timestamp as restore_time,
        landed_rows.updated_at::timestamp as updated_at,
        {{ landing_columns() }}
    from {{ source('command', 'repair_task') }} as landed_rows
    {{ join_batches() }}
    {{ join_known_keys('known_team', 'landed_rows.team_code::text', ref('stg_marketing__teams'), 'team_code') }}
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
        {{ quarantine_reasons({
            'duplicate_key': 'version_in_batch > 1',
            'future_timestamp': is_future(['dispatch_time', 'arrive_time', 'restore_time']),
            'missing_value': is_missing(['task_id', 'order_no']),
            'unknown_reference': is_unknown_reference('order_no', 'known_order'),
            'end_before_start': 'arrive_time < dispatch_time or restore_time < dispatch_time',
            'implausible_timestamp': is_implausible(['dispatch_time', 'arrive_time', 'restore_time']),
            'unknown_team': 'is_team_unknown',
        }) }} as quarantine_reasons
    from ranked
    {{ join_known_keys('known_order', 'ranked.order_no', ref('stg_appeals__work_orders'), 'order_no') }}
)

select
    *,
    {{ quarantine_action('quarantine_reasons') }} as quarantine_action
from checked
