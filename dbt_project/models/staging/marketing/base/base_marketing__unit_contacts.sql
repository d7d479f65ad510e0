-- Every landed version of every unit contact, typed, with the reasons it would be quarantined.
with

landed as (
    select
        landed_rows.org_code::text as org_code,
        landed_rows.role::text as contact_role,
        landed_rows.staff_id::text as staff_id,
        landed_rows.updated_at::timestamp as updated_at,
        {{ landing_columns() }}
    from {{ source('marketing', 'unit_contact') }} as landed_rows
    {{ join_batches() }}
),

ranked as (
    select
        *,
        {{ version_ranks(['org_code', 'contact_role']) }}
    from landed
),

checked as (
    select
        ranked.*,
        {{ quarantine_reasons({
            'duplicate_key': 'version_in_batch > 1',
            'bad_enum': is_bad_enum('contact_role', 'contact_role'),
            'missing_value': is_missing(['org_code', 'contact_role', 'staff_id']),
            'unknown_reference': is_unknown_reference('org_code', 'known_unit')
                ~ ' or ' ~ is_unknown_reference('staff_id', 'known_staff'),
        }) }} as quarantine_reasons
    from ranked
    {{ join_known_keys('known_unit', 'ranked.org_code', ref('stg_marketing__org_units'), 'org_code') }}
    {{ join_known_keys('known_staff', 'ranked.staff_id', ref('stg_marketing__staff_members'), 'staff_id') }}
)

select
    *,
    {{ quarantine_action('quarantine_reasons') }} as quarantine_action
from checked
