-- Every risk-model version: the indicator weights sum to 1 and each dimension's weight is the sum of
-- its indicators' weights (R = sum of dimension weight x dimension score = sum of weight x score).
with

indicator_sums as (
    select
        model_version,
        dimension_code,
        sum(weight) as indicator_weight
    from {{ ref('risk_indicators') }}
    group by model_version, dimension_code
)

select
    dimensions.model_version,
    dimensions.dimension_code,
    dimensions.weight,
    indicator_sums.indicator_weight
from {{ ref('risk_dimensions') }} as dimensions
full outer join indicator_sums
    on
        dimensions.model_version = indicator_sums.model_version
        and dimensions.dimension_code = indicator_sums.dimension_code
where dimensions.weight is distinct from indicator_sums.indicator_weight

union all

select
    model_version,
    'all' as dimension_code,
    1 as weight,
    sum(weight) as indicator_weight
from {{ ref('risk_indicators') }}
group by model_version
having sum(weight) <> 1
