-- Every landed version of every team, typed, with the reasons it would be quarantined.
with

landed as (
    select
        landed_rows.team_code::text as team_code,
        landed_rows.team_name::text as team_name,
        landed_rows.station_code::text as station_code,
        landed_rows.team_type::text as team_type,
        landed_rows.updated_at::timestamp as updated_at,
        {{ landing_columns() }}
    from {{ source('marketing', 'team') }} as landed_rows
    {{ join_batches() }}
),

ranked as (
    select
        *,
        {{ version_ranks(['team_code']) }}
    from landed
),

checked as (
    select
        *,
        {{ quarantine_reasons({
            'duplicate_key': 'version_in_batch > 1',
            'unknown_station': is_unknown_station('station_code'),
            'bad_enum': is_bad_enum('team_type', 'team_type'),
            'missing_value': is_missing(['team_code', 'team_type']),
        }) }} as quarantine_reasons
    from ranked
)

select
    *,
    {{ quarantine_action('quarantine_reasons') }} as quarantine_action
from checked
