-- Every landed version of every staff member, typed, mobile masked, with the reasons it would be quarantined.
with

landed as (
    select
        landed_rows.staff_id::text as staff_id,
        landed_rows.staff_name::text as staff_name,
        landed_rows.org_code::text as org_code,
        landed_rows.team_code::text as team_code,
        {{ is_unknown_reference('landed_rows.team_code::text', 'known_team') }}
            as is_team_unknown,
        landed_rows.position::text as staff_position,
        {{ hash_phone('landed_rows.mobile::text') }} as mobile_hash,
        {{ mask_phone('landed_rows.mobile::text') }} as mobile_masked,
        {{ is_malformed_phone('landed_rows.mobile::text') }} as is_mobile_malformed,
        landed_rows.email::text as email,
        landed_rows.updated_at::timestamp as updated_at,
        {{ landing_columns() }}
    from {{ source('marketing', 'staff') }} as landed_rows
    {{ join_batches() }}
    {{ join_known_keys('known_team', 'landed_rows.team_code::text', ref('stg_marketing__teams'), 'team_code') }}
),

ranked as (
    select
        *,
        {{ version_ranks(['staff_id']) }}
    from landed
),

checked as (
    select
        ranked.*,
        {{ quarantine_reasons({
            'duplicate_key': 'version_in_batch > 1',
            'malformed_phone': 'is_mobile_malformed',
            'missing_value': is_missing(['staff_id', 'org_code']),
            'unknown_reference': is_unknown_reference('org_code', 'known_unit'),
            'unknown_team': 'is_team_unknown',
        }) }} as quarantine_reasons
    from ranked
    {{ join_known_keys('known_unit', 'ranked.org_code', ref('stg_marketing__org_units'), 'org_code') }}
)

select
    *,
    {{ quarantine_action('quarantine_reasons') }} as quarantine_action
from checked
