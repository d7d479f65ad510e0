{{ config(materialized='table') }}
-- dim_risk_model as published with the risk rows it explains.
select * from {{ ref('dim_risk_model') }}  -- noqa: AM04
