{{ config(
    materialized='incremental',
    unique_key='risk_date',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    indexes=[{'columns': ['sheet_id'], 'unique': true}, {'columns': ['risk_date']}],
) }}
-- The days of fct_risk_sheet that passed the mart gate with the risk rows they follow (a day's
-- closed-loop state depends on that day and earlier ones only).
select * from {{ ref('fct_risk_sheet') }}  -- noqa: AM04
where {{ published_days() }}
