{{ config(materialized='view') }}
-- Every expectation of each suite's latest check with its result, failures first. No sample values
-- (observed_value can carry source data).
with

labels as (
    select * from {{ ref('quality_labels') }}
),

latest_run as (
    select distinct on (suite)
        suite,
        run_id
    from {{ source('quality', 'validation_result') }}
    order by suite asc, checked_at desc
)

select
    results.checked_at,
    results.suite,
    layers.name_zh as gate_layer,
    results.expectation,
    results.column_name,
    results.description,
    severities.name_zh as severity,
    outcomes.name_zh as result_zh,
    case when results.success then 1 else 0 end as result_rank,
    results.unexpected_count
from {{ source('quality', 'validation_result') }} as results
inner join latest_run
    on results.suite = latest_run.suite and results.run_id = latest_run.run_id
inner join labels as layers
    on
        layers.domain = 'gate_layer'
        and layers.value = case when results.suite like 'landing.%' then 'landing' else 'marts' end
inner join labels as severities
    on
        severities.domain = 'severity'
        and severities.value = case when results.blocking then 'blocking' else 'warning' end
inner join labels as outcomes
    on
        outcomes.domain = 'result'
        and outcomes.value = case when results.success then 'passed' else 'failed' end
