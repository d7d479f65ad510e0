-- The selected risk-model version (var risk_model_version) has all its seed rows: ten indicators,
-- three dimensions and codes, one parameter row, an arrival limit per area type, tiers, outage types,
-- a description of both overrides.
select 'risk_indicators' as seed_name, count(*) as row_count
from {{ ref('stg_risk_model__indicators') }}
having count(*) <> 10
union all
select 'risk_dimensions' as seed_name, count(*) as row_count
from {{ ref('stg_risk_model__dimensions') }}
having count(*) <> 3
union all
select 'risk_code_thresholds' as seed_name, count(*) as row_count
from {{ ref('stg_risk_model__code_thresholds') }}
having count(*) <> 3
union all
select 'risk_parameters' as seed_name, count(*) as row_count
from {{ ref('stg_risk_model__parameters') }}
having count(*) <> 1
union all
select 'repair_arrival_limits' as seed_name, count(*) as row_count
from {{ ref('stg_risk_model__repair_arrival_limits') }}
having count(*) <> {{ var('source_enumerations')['area_type'] | length }}
union all
select 'outage_warning_tiers' as seed_name, count(*) as row_count
from {{ ref('stg_risk_model__outage_warning_tiers') }}
having count(*) = 0
union all
select 'outage_types' as seed_name, count(*) as row_count
from {{ ref('stg_risk_model__outage_types') }}
having count(*) <> {{ var('source_enumerations')['outage_type'] | length }}
union all
select 'risk_overrides' as seed_name, count(*) as row_count
from {{ ref('stg_risk_model__overrides') }}
having count(*) <> 2
