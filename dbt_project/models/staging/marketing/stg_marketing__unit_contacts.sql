-- Current contacts (分管领导, 部门负责人) of each org unit, valid rows only.
select
    org_code,
    contact_role,
    staff_id,
    updated_at
from {{ ref('base_marketing__unit_contacts') }}
where is_current_version and quarantine_action is distinct from 'dropped'
