-- Current teams of the stations, valid rows only.
select
    team_code,
    team_name,
    station_code,
    team_type,
    updated_at
from {{ ref('base_marketing__teams') }}
where is_current_version and quarantine_action is distinct from 'dropped'
