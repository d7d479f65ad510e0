{{ config(materialized='table', indexes=[{'columns': ['org_code'], 'unique': true}]) }}
-- The org hierarchy as the dashboards name it: the filters' options (province → city → county →
-- station). station_code / station_name are set on station rows only, under the same names as in the
-- other datasets, so one filter applies to every chart.
select
    units.org_code,
    units.org_name,
    units.org_level,
    levels.org_level_name_zh as org_level_zh,
    levels.level_rank as org_level_rank,
    units.province_code,
    units.province_name,
    units.city_code,
    units.city_name,
    units.county_code,
    units.county_name,
    case when units.org_level = 'station' then units.org_code end as station_code,
    case when units.org_level = 'station' then units.org_name end as station_name,
    areas.name_zh as area_type_zh,
    units.customer_count,
    units.station_count
from {{ ref('dim_org_unit') }} as units
inner join {{ ref('stg_risk_model__org_levels') }} as levels on units.org_level = levels.org_level
left join {{ ref('stg_risk_model__source_value_labels') }} as areas
    on areas.enumeration = 'area_type' and units.area_type = areas.value
