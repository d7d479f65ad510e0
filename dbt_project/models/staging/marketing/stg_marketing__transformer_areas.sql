-- Current transformer areas (台区) with their station and customer count, valid rows only.
select
    ta_code,
    ta_name,
    station_code,
    customer_count,
    updated_at
from {{ ref('base_marketing__transformer_areas') }}
where is_current_version and quarantine_action is distinct from 'dropped'
