{{ config(
    materialized='incremental',
    unique_key='risk_date',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    indexes=[
        {'columns': ['unit_day_id'], 'unique': true},
        {'columns': ['risk_date', 'org_level']},
        {'columns': ['org_code', 'risk_date']},
    ],
) }}
-- The rows of fct_unit_risk_daily that passed the mart gate, day by day.
select * from {{ ref('fct_unit_risk_daily') }}  -- noqa: AM04
where {{ published_days() }}
