{{ config(materialized='view') }}
-- Gate runs for the data-quality dashboard: one row per run and suite (Great Expectations results).
-- A blocking expectation that failed fails the gate: the day is not published; warnings only inform.
with

labels as (
    select * from {{ ref('quality_labels') }}
),

runs as (
    select
        run_id,
        suite,
        case when suite like 'landing.%' then 'landing' else 'marts' end as gate_layer,
        min(checked_at) as checked_at,
        count(*) as expectation_count,
        count(*) filter (where blocking and not success) as blocking_failures,
        count(*) filter (where not blocking and not success) as warning_count,
        case when bool_and(success or not blocking) then 'passed' else 'failed' end as gate_result
    from {{ source('quality', 'validation_result') }}
    group by run_id, suite
)

select
    runs.run_id,
    runs.suite,
    layers.name_zh as gate_layer,
    runs.checked_at,
    runs.expectation_count,
    runs.blocking_failures,
    runs.warning_count,
    results.name_zh as gate_result
from runs
inner join labels as layers on layers.domain = 'gate_layer' and runs.gate_layer = layers.value
inner join labels as results on results.domain = 'result' and runs.gate_result = results.value
