-- The levels of the org hierarchy with their names and order.
select
    org_level,
    org_level_name_zh,
    org_level_name_en,
    level_rank
from {{ ref('org_levels') }}
