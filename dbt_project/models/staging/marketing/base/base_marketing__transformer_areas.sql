-- Every landed version of every transformer area (台区), typed, with the reasons it would be quarantined.
with

landed as (
    select
        landed_rows.ta_code::text as ta_code,
        landed_rows.ta_name::text as ta_name,
        landed_rows.station_code::text as station_code,
        landed_rows.customer_count::bigint as customer_count,
        landed_rows.updated_at::timestamp as updated_at,
        {{ landing_columns() }}
    from {{ source('marketing', 'transformer_area') }} as landed_rows
    {{ join_batches() }}
),

ranked as (
    select
        *,
        {{ version_ranks(['ta_code']) }}
    from landed
),

checked as (
    select
        *,
        {{ quarantine_reasons({
            'duplicate_key': 'version_in_batch > 1',
            'unknown_station': is_unknown_station('station_code'),
            'missing_value': is_missing(['ta_code', 'customer_count']),
            'negative_value': 'customer_count < 0',
        }) }} as quarantine_reasons
    from ranked
)

select
    *,
    {{ quarantine_action('quarantine_reasons') }} as quarantine_action
from checked
