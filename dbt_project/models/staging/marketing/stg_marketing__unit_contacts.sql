-- A table, not a view: the closed loop's delivery and Superset's provisioning read it while a build
-- runs, and rebuilding the base view upstream drops a dependent view (cascade) until its own node runs.
{{ config(materialized='table', grants={'select': [env_var('SR_CLOSED_LOOP_ROLE')]}) }}  -- sheets' recipients

-- Current contacts (分管领导, 部门负责人) of each org unit, valid rows only.
select
    org_code,
    contact_role,
    staff_id,
    updated_at
from {{ ref('base_marketing__unit_contacts') }}
where is_current_version and quarantine_action is distinct from 'dropped'
