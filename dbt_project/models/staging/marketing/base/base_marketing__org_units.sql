-- Every landed version of every org unit, typed, with the reasons it would be quarantined.
with

landed as (
    select
        landed_rows.org_code::text as org_code,
        landed_rows.org_name::text as org_name,
        landed_rows.org_level::text as org_level,
        landed_rows.parent_code::text as parent_code,
        landed_rows.area_type::text as area_type,
        landed_rows.customer_count::bigint as customer_count,
        landed_rows.updated_at::timestamp as updated_at,
        {{ landing_columns() }}
    from {{ source('marketing', 'org_unit') }} as landed_rows
    {{ join_batches() }}
),

ranked as (
    select
        *,
        {{ version_ranks(['org_code']) }}
    from landed
),

checked as (
    select
        *,
        {{ quarantine_reasons({
            'duplicate_key': 'version_in_batch > 1',
            'bad_enum': is_bad_enum('org_level', 'org_level') ~ ' or ' ~ is_bad_enum('area_type', 'area_type'),
            'missing_value': is_missing(['org_code', 'org_name', 'org_level']),
            'negative_value': 'customer_count < 0',
            'unknown_reference': "parent_code is not null and parent_code not in "
                ~ "(select landed_units.org_code from ranked as landed_units where landed_units.is_current_version "
                ~ "and landed_units.org_code is not null)",
        }) }} as quarantine_reasons
    from ranked
)

select
    *,
    {{ quarantine_action('quarantine_reasons') }} as quarantine_action
from checked
