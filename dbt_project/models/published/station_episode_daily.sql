{{ config(
    materialized='incremental',
    unique_key='risk_date',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    indexes=[{'columns': ['episode_day_id'], 'unique': true}, {'columns': ['risk_date']}],
) }}
-- The days of fct_station_episode_daily that passed the mart gate with the risk rows they follow (a day's
-- closed-loop state depends on that day and earlier ones only).
select * from {{ ref('fct_station_episode_daily') }}  -- noqa: AM04
where {{ published_days() }}
