{{ config(indexes=[{'columns': ['episode_id'], 'unique': true}, {'columns': ['opened_on']}]) }}
-- Every published warning episode (fct_risk_episode, as of its latest published day) with the names
-- of its codes, state and worst indicators at opening: the head of its page (预警事件详情). Its days,
-- sheets and answers are in episode_timeline, episode_sheet_orders and episode_feedback.
with

answers as (
    select
        episode_id,
        count(*) as answer_count
    from {{ ref('stg_closed_loop__episode_feedback') }}
    group by episode_id
)

select
    episodes.episode_id,
    episodes.province_code,
    episodes.city_code,
    episodes.city_name,
    episodes.county_code,
    episodes.county_name,
    episodes.station_code,
    episodes.station_name,
    episodes.opened_on,
    opening_codes.risk_code_name_zh as opening_code_zh,
    episodes.opening_risk_score,
    worst_1.indicator_label_zh as worst_indicator_1,
    worst_2.indicator_label_zh as worst_indicator_2,
    worst_3.indicator_label_zh as worst_indicator_3,
    episodes.escalated_on,
    levels.risk_code_name_zh as level_zh,
    episodes.as_of_date,
    codes.risk_code_name_zh as risk_code_zh,
    episodes.current_risk_score as risk_score,
    episodes.days_open,
    episodes.episode_state_name_zh as state_zh,
    episodes.feedback_due_at,
    episodes.feedback_received_at,
    coalesce(answers.answer_count, 0)::integer as answer_count,
    episodes.closed_on,
    episodes.model_version
from {{ ref('fct_risk_episode') }} as episodes
inner join {{ ref('risk_code') }} as opening_codes on episodes.opening_code = opening_codes.risk_code
inner join {{ ref('risk_code') }} as levels on episodes.level_code = levels.risk_code
inner join {{ ref('risk_code') }} as codes on episodes.current_code = codes.risk_code
left join {{ ref('risk_indicator') }} as worst_1 on episodes.worst_indicator_1 = worst_1.indicator_code
left join {{ ref('risk_indicator') }} as worst_2 on episodes.worst_indicator_2 = worst_2.indicator_code
left join {{ ref('risk_indicator') }} as worst_3 on episodes.worst_indicator_3 = worst_3.indicator_code
left join answers on episodes.episode_id = answers.episode_id
where {{ published_days('episodes.as_of_date') }}
