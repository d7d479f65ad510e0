{{ config(indexes=[{'columns': ['interview_item_id'], 'unique': true}, {'columns': ['city_code', 'interview_on']}]) }}
-- The weekly interview lists (每周约谈) of the weeks the gate has passed, with their labels (the worst
-- indicators at opening named as on the episode's page).
select
    interview.interview_item_id,
    interview.interview_on,
    interview.week_from,
    interview.week_to,
    interview.episode_id,
    interview.province_code,
    interview.city_code,
    interview.city_name,
    interview.county_code,
    interview.county_name,
    interview.station_code,
    interview.station_name,
    interview.opened_on,
    levels.risk_code_name_zh as level_zh,
    codes.risk_code_name_zh as risk_code_zh,
    interview.risk_score,
    interview.days_open,
    interview.overdue_days,
    interview.most_red_days_in_row,
    interview.was_feedback_overdue::integer as is_feedback_overdue,
    interview.stayed_red::integer as is_long_red,
    interview.feedback_due_at,
    interview.feedback_received_at,
    interview.closed_on,
    episodes.worst_indicator_1,
    episodes.worst_indicator_2,
    episodes.worst_indicator_3,
    interview.model_version
from {{ ref('fct_weekly_interview') }} as interview
inner join {{ ref('risk_code') }} as levels on interview.level_code = levels.risk_code
inner join {{ ref('risk_code') }} as codes on interview.risk_code = codes.risk_code
left join {{ ref('risk_episode') }} as episodes on interview.episode_id = episodes.episode_id
where {{ published_days('interview.week_to') }}
