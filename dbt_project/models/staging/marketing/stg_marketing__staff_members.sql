-- A table, not a view: the closed loop's delivery and Superset's provisioning read it while a build
-- runs, and rebuilding the base view upstream drops a dependent view (cascade) until its own node runs.
{{ config(materialized='table') }}

-- Current staff, valid rows only; the mobile is masked and hashed, the work e-mail kept for notifications.
select
    staff_id,
    staff_name,
    org_code,
    case when not is_team_unknown then team_code end as team_code,
    staff_position,
    mobile_hash,
    mobile_masked,
    email,
    updated_at
from {{ ref('base_marketing__staff_members') }}
where is_current_version and quarantine_action is distinct from 'dropped'
