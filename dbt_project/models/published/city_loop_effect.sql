{{ config(indexes=[{'columns': ['city_code'], 'unique': true}]) }}
-- What the loop did per city: red-station share and satisfaction before and after its first targeted
-- action, with the satisfaction of the after months a year before.
select
    effect.city_code,
    units.province_code,
    units.org_name as city_name,
    effect.first_action_on,
    effect.before_from,
    effect.before_to,
    effect.after_from,
    effect.after_to,
    effect.red_share_before,
    effect.red_share_after,
    effect.red_share_change_pp,
    effect.satisfaction_before,
    effect.satisfaction_after,
    effect.satisfaction_change_pp,
    effect.satisfaction_after_year_before,
    effect.satisfaction_change_yoy_pp,
    effect.model_version
from {{ ref('fct_city_loop_effect') }} as effect
inner join {{ ref('dim_org_unit') }} as units on effect.city_code = units.org_code
where {{ published_days('effect.first_action_on') }}
