-- Every landed version of every outage row (one per transformer area), typed, with the reasons it would
-- be quarantined. Incremental: a night recomputes the outage rows that changed or whose station or area
-- did (macros/landing.sql).
{{ config(**incremental_base_config()) }}
{%- set reference_checks = {
    'unknown_station': is_unknown_station('station_code'),
    'unknown_reference': is_unknown_reference('ta_code', 'known_area'),
} %}
{%- set reference_joins = [
    join_known_keys('known_area', 'ta_code', ref('stg_marketing__transformer_areas'), 'ta_code'),
] %}
with

landed as (
    select
        landed_rows.outage_id::text as outage_id,
        landed_rows.ta_code::text as ta_code,
        landed_rows.outage_type::text as outage_type,
        landed_rows.station_code::text as station_code,
        landed_rows.feeder_name::text as feeder_name,
        landed_rows.start_time::timestamp as start_time,
        landed_rows.planned_end_time::timestamp as planned_end_time,
        landed_rows.end_time::timestamp as end_time,
        landed_rows.notice_time::timestamp as notice_time,
        landed_rows.affected_customers::bigint as affected_customers,
        landed_rows.cause::text as cause,
        landed_rows.updated_at::timestamp as updated_at,
        {{ landing_columns() }},
        {{ version_key(['outage_id', 'ta_code'], 'landed_rows') }} as version_key
    from {{ source('command', 'outage_event') }} as landed_rows
    {{ join_batches() }}
    {% if is_incremental() %}
        {{ versions_to_build(
            source('command', 'outage_event'), ['outage_id', 'ta_code'], reference_checks, reference_joins
        ) }}
    {% endif %}
),

ranked as (
    select
        *,
        {{ version_ranks(['outage_id', 'ta_code']) }}
    from landed
),

checked as (
    select
        ranked.*,
        {{ quarantine_reasons({
            'duplicate_key': 'version_in_batch > 1',
            'unknown_station': reference_checks['unknown_station'],
            'future_timestamp': is_future(['start_time', 'end_time', 'notice_time']),
            'bad_enum': is_bad_enum('outage_type', 'outage_type'),
            'missing_value': is_missing(['outage_id', 'ta_code', 'outage_type', 'start_time']),
            'unknown_reference': reference_checks['unknown_reference'],
            'end_before_start': 'end_time < start_time',
            'negative_value': 'affected_customers < 0',
            'implausible_timestamp': is_implausible(['start_time', 'planned_end_time', 'end_time', 'notice_time']),
        }) }} as quarantine_reasons
    from ranked
    {{ reference_joins | join('\n    ') }}
)

select
    *,
    {{ quarantine_action('quarantine_reasons') }} as quarantine_action
from checked
