-- Every landed version of every work order, typed, personal data masked, with the reasons it would be
-- quarantined. Incremental: a night recomputes the orders that changed (macros/landing.sql).
{{ config(**incremental_base_config()) }}
{%- set reference_checks = {
    'unknown_station': is_unknown_station('station_code'),
    'unknown_team': is_unknown_reference('handler_team_code', 'known_team'),
} %}
{%- set reference_joins = [
    join_known_keys('known_team', 'handler_team_code', ref('stg_marketing__teams'), 'team_code'),
] %}
with

landed as (
    select
        landed_rows.order_no::text as order_no,
        landed_rows.channel::text as channel,
        landed_rows.order_type::text as order_type,
        landed_rows.category::text as category,
        landed_rows.complaint_level::text as complaint_level,
        nullif(trim(landed_rows.customer_no::text), '') as customer_no,
        {{ hash_phone('landed_rows.caller_phone::text') }} as caller_phone_hash,
        {{ mask_phone('landed_rows.caller_phone::text') }} as caller_phone_masked,
        {{ is_malformed_phone('landed_rows.caller_phone::text') }} as is_caller_phone_malformed,
        landed_rows.station_code::text as station_code,
        landed_rows.ta_code::text as ta_code,
        landed_rows.parent_order_no::text as parent_order_no,
        landed_rows.accept_time::timestamp as accept_time,
        landed_rows.deadline_time::timestamp as deadline_time,
        landed_rows.reply_time::timestamp as reply_time,
        landed_rows.finish_time::timestamp as finish_time,
        landed_rows.status::text as order_status,
        landed_rows.return_count::integer as return_count,
        landed_rows.handler_team_code::text as handler_team_code,
        landed_rows.handler_staff_id::text as handler_staff_id,
        {{ mask_free_text('landed_rows.content::text') }} as content_masked,
        landed_rows.created_at::timestamp as created_at,
        landed_rows.updated_at::timestamp as updated_at,
        {{ landing_columns() }},
        {{ version_key(['order_no'], 'landed_rows') }} as version_key
    from {{ source('appeals', 'work_order') }} as landed_rows
    {{ join_batches() }}
    {% if is_incremental() %}
        {{ versions_to_build(source('appeals', 'work_order'), ['order_no'], reference_checks, reference_joins) }}
    {% endif %}
),

ranked as (
    select
        *,
        {{ version_ranks(['order_no']) }}
    from landed
),

checked as (
    select
        ranked.*,
        {{ reference_checks['unknown_team'] }} as is_handler_team_unknown,
        {{ quarantine_reasons({
            'duplicate_key': 'version_in_batch > 1',
            'missing_accept_time': 'accept_time is null',
            'unknown_station': reference_checks['unknown_station'],
            'finish_before_accept': 'finish_time < accept_time',
            'reply_before_accept': 'reply_time < accept_time',
            'future_timestamp': is_future(['accept_time', 'reply_time', 'finish_time', 'created_at']),
            'bad_enum': is_bad_enum('channel', 'channel') ~ ' or ' ~ is_bad_enum('order_type', 'order_type')
                ~ ' or ' ~ is_bad_enum('category', 'category')
                ~ ' or ' ~ is_bad_enum('complaint_level', 'complaint_level')
                ~ ' or ' ~ is_bad_enum('order_status', 'order_status'),
            'malformed_phone': 'is_caller_phone_malformed',
            'missing_value': is_missing(['order_no', 'channel', 'order_type', 'category', 'order_status',
                'return_count']),
            'negative_value': 'return_count < 0',
            'implausible_timestamp': is_implausible(['accept_time', 'deadline_time', 'reply_time', 'finish_time',
                'created_at']),
            'unknown_team': reference_checks['unknown_team'],
        }) }} as quarantine_reasons
    from ranked
    {{ reference_joins | join('\n    ') }}
)

select
    *,
    {{ quarantine_action('quarantine_reasons') }} as quarantine_action
from checked
