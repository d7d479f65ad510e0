{{ config(
    materialized='incremental',
    unique_key='risk_date',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    indexes=[{'columns': ['sheet_order_id'], 'unique': true}, {'columns': ['sheet_id']}, {'columns': ['risk_date']}],
) }}
-- The days of fct_risk_sheet_order that passed the mart gate with the sheets they belong to.
select * from {{ ref('fct_risk_sheet_order') }}  -- noqa: AM04
where {{ published_days() }}
