{{ config(materialized='table') }}
-- dim_risk_code as published with the risk rows it explains.
select * from {{ ref('dim_risk_code') }}  -- noqa: AM04
