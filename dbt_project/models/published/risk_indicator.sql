{{ config(materialized='table') }}
-- dim_risk_indicator as published with the risk rows it explains.
select * from {{ ref('dim_risk_indicator') }}  -- noqa: AM04
