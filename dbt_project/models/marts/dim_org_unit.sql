-- The org hierarchy province -> city -> county -> station, one row per unit, with each unit's
-- ancestors, the station's area type and the customers, stations and transformer areas below it.
with recursive

units as (
    select * from {{ ref('stg_marketing__org_units') }}
),

lineage as (
    select
        units.org_code,
        units.org_code as ancestor_code,
        units.org_level as ancestor_level,
        units.parent_code as next_code,
        0 as hops
    from units
    union all
    select
        lineage.org_code,
        parents.org_code as ancestor_code,
        parents.org_level as ancestor_level,
        parents.parent_code as next_code,
        lineage.hops + 1 as hops
    from lineage
    inner join units as parents on lineage.next_code = parents.org_code
    where lineage.hops < 4  -- four levels; guards against a cycle in the master data
),

ancestors as (
    select
        org_code,
        max(ancestor_code) filter (where ancestor_level = 'province') as province_code,
        max(ancestor_code) filter (where ancestor_level = 'city') as city_code,
        max(ancestor_code) filter (where ancestor_level = 'county') as county_code
    from lineage
    group by org_code
),

area_counts as (
    select
        station_code,
        count(*) as transformer_area_count
    from {{ ref('stg_marketing__transformer_areas') }}
    group by station_code
),

-- Customers, stations and areas below each unit (a station counts for itself).
totals as (
    select
        lineage.ancestor_code as org_code,
        count(*) as station_count,
        sum(coalesce(stations.customer_count, 0)) as customer_count,
        sum(coalesce(area_counts.transformer_area_count, 0)) as transformer_area_count
    from lineage
    inner join units as stations on lineage.org_code = stations.org_code
    left join area_counts on stations.org_code = area_counts.station_code
    where stations.org_level = 'station'
    group by lineage.ancestor_code
)

select
    units.org_code,
    units.org_name,
    units.org_level,
    units.parent_code,
    ancestors.province_code,
    provinces.org_name as province_name,
    ancestors.city_code,
    cities.org_name as city_name,
    ancestors.county_code,
    counties.org_name as county_name,
    units.area_type,
    coalesce(totals.customer_count, 0)::bigint as customer_count,
    coalesce(totals.station_count, 0)::integer as station_count,
    coalesce(totals.transformer_area_count, 0)::integer as transformer_area_count
from units
inner join ancestors on units.org_code = ancestors.org_code
left join units as provinces on ancestors.province_code = provinces.org_code
left join units as cities on ancestors.city_code = cities.org_code
left join units as counties on ancestors.county_code = counties.org_code
left join totals on units.org_code = totals.org_code
