-- Every landed version of every customer, typed, personal data masked, with the reasons it would be quarantined.
with

landed as (
    select
        landed_rows.customer_no::text as customer_no,
        {{ mask_name('landed_rows.customer_name::text') }} as customer_name_masked,
        {{ hash_phone('landed_rows.mobile::text') }} as mobile_hash,
        {{ mask_phone('landed_rows.mobile::text') }} as mobile_masked,
        {{ is_malformed_phone('landed_rows.mobile::text') }} as is_mobile_malformed,
        left(landed_rows.address::text, 6) || '****' as address_masked,
        landed_rows.station_code::text as station_code,
        landed_rows.ta_code::text as ta_code,
        landed_rows.customer_type::text as customer_type,
        landed_rows.created_at::timestamp as created_at,
        landed_rows.updated_at::timestamp as updated_at,
        {{ landing_columns() }}
    from {{ source('marketing', 'customer') }} as landed_rows
    {{ join_batches() }}
),

ranked as (
    select
        *,
        {{ version_ranks(['customer_no']) }}
    from landed
),

checked as (
    select
        *,
        {{ quarantine_reasons({
            'duplicate_key': 'version_in_batch > 1',
            'unknown_station': is_unknown_station('station_code'),
            'bad_enum': is_bad_enum('customer_type', 'customer_type'),
            'future_timestamp': is_future(['created_at']),
            'malformed_phone': 'is_mobile_malformed',
            'missing_value': is_missing(['customer_no']),
        }) }} as quarantine_reasons
    from ranked
)

select
    *,
    {{ quarantine_action('quarantine_reasons') }} as quarantine_action
from checked
