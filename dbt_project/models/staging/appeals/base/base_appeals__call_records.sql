-- Every landed version of every call record, typed, caller phone hashed, with the reasons it would be
-- quarantined. Incremental: a night recomputes the calls that changed (macros/landing.sql).
{{ config(**incremental_base_config()) }}
{%- set reference_checks = {
    'unknown_station': 'station_code is not null and ' ~ is_unknown_station('station_code'),
} %}
with

landed as (
    select
        landed_rows.call_id::text as call_id,
        landed_rows.call_time::timestamp as call_time,
        {{ hash_phone('landed_rows.caller_phone::text') }} as caller_phone_hash,
        {{ is_malformed_phone('landed_rows.caller_phone::text') }} as is_caller_phone_malformed,
        nullif(trim(landed_rows.customer_no::text), '') as customer_no,
        landed_rows.station_code::text as station_code,
        landed_rows.duration_s::integer as duration_seconds,
        landed_rows.ivr_path::text as ivr_path,
        landed_rows.agent_id::text as agent_id,
        landed_rows.order_no::text as order_no,
        landed_rows.updated_at::timestamp as updated_at,
        {{ landing_columns() }},
        {{ version_key(['call_id'], 'landed_rows') }} as version_key
    from {{ source('appeals', 'call_record') }} as landed_rows
    {{ join_batches() }}
    {% if is_incremental() %}
        {{ versions_to_build(source('appeals', 'call_record'), ['call_id'], reference_checks) }}
    {% endif %}
),

ranked as (
    select
        *,
        {{ version_ranks(['call_id']) }}
    from landed
),

checked as (
    select
        *,
        {{ quarantine_reasons({
            'duplicate_key': 'version_in_batch > 1',
            'unknown_station': reference_checks['unknown_station'],
            'future_timestamp': is_future(['call_time']),
            'malformed_phone': 'is_caller_phone_malformed',
            'missing_value': is_missing(['call_id', 'call_time']),
            'negative_value': 'duration_seconds < 0',
            'implausible_timestamp': is_implausible(['call_time']),
        }) }} as quarantine_reasons
    from ranked
)

select
    *,
    {{ quarantine_action('quarantine_reasons') }} as quarantine_action
from checked
