-- The ten indicators of the selected risk-model version as the dashboards name and explain them.
select
    indicators.indicator_code,
    indicators.indicator_name_zh,
    indicators.indicator_name_en,
    indicators.indicator_code || ' ' || indicators.indicator_name_zh as indicator_label_zh,
    indicators.dimension_code,
    dimensions.dimension_name_zh,
    dimensions.dimension_name_en,
    indicators.measure_kind,
    indicators.window_days,
    indicators.upper_limit,
    indicators.weight,
    indicators.is_shrunk,
    indicators.model_version
from {{ ref('stg_risk_model__indicators') }} as indicators
inner join {{ ref('stg_risk_model__dimensions') }} as dimensions
    on indicators.dimension_code = dimensions.dimension_code
