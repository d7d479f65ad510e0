{{
    config(
        indexes=[{'columns': ['unit_month_id'], 'unique': true}, {'columns': ['city_code', 'month_from']}]
    )
}}
-- Service satisfaction (满意率) per unit and month as the dashboards show it: the rate, the
-- year-on-year change and the change since the unit's first warning episode (percentage points),
-- with the hierarchy's columns the filters and row-level security use.
select
    satisfaction.unit_month_id,
    satisfaction.month_from,
    units.province_code,
    units.city_code,
    units.city_name,
    units.county_code,
    units.county_name,
    units.station_code,
    units.station_name,
    units.org_code,
    units.org_name,
    units.org_level,
    units.org_level_zh,
    satisfaction.surveys_reached,
    satisfaction.surveys_satisfied,
    satisfaction.satisfaction_rate,
    satisfaction.is_month_complete::integer as is_month_complete,
    satisfaction.surveys_reached_year_before,
    satisfaction.surveys_satisfied_year_before,
    satisfaction.satisfaction_rate_year_before,
    satisfaction.satisfaction_change_yoy_pp,
    satisfaction.first_episode_month,
    satisfaction.satisfaction_change_since_first_episode_pp,
    satisfaction.model_version
from {{ ref('fct_unit_satisfaction_monthly') }} as satisfaction
inner join {{ ref('org_unit') }} as units on satisfaction.org_code = units.org_code
where {{ published_days('satisfaction.month_from') }}
