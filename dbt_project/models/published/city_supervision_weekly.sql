{{ config(indexes=[{'columns': ['city_week_id'], 'unique': true}, {'columns': ['week_from']}]) }}
-- Province supervision (省公司督办) per city and week, for the weeks the gate has passed.
select * from {{ ref('fct_city_supervision_weekly') }}  -- noqa: AM04
where {{ published_days('week_to') }}
