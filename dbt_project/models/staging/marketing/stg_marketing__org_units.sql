-- Current org units (province, city, county, station), valid rows only.
select
    org_code,
    org_name,
    org_level,
    parent_code,
    area_type,
    customer_count,
    updated_at
from {{ ref('base_marketing__org_units') }}
where is_current_version and quarantine_action is distinct from 'dropped'
