{{ config(materialized='view') }}
-- The publication pointer: one row per publication; the latest published_through is the last day
-- the dashboards show.
select
    published_through,
    published_at,
    run_id
from {{ source('quality', 'publication') }}
