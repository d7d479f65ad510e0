{{ config(indexes=[{'columns': ['episode_id'], 'unique': true}, {'columns': ['opened_on']}]) }}
-- Every published warning episode as of its latest published day: the head of its page (预警事件详情).
-- Its days, sheets and answers are in episode_timeline, episode_sheet_orders and episode_feedback.
with

episode_days as (
    select * from {{ ref('station_episode_daily') }}
),

latest as (
    select distinct on (episode_id) *
    from episode_days
    order by episode_id asc, risk_date desc
),

opening as (
    select
        episode_id,
        risk_score as opening_risk_score
    from episode_days
    where risk_date = opened_on
),

answers as (
    select
        episode_id,
        count(*) as answer_count
    from {{ ref('stg_closed_loop__episode_feedback') }}
    group by episode_id
)

select
    latest.episode_id,
    latest.province_code,
    latest.city_code,
    latest.city_name,
    latest.county_code,
    latest.county_name,
    latest.station_code,
    latest.station_name,
    latest.opened_on,
    opening_codes.risk_code_name_zh as opening_code_zh,
    opening.opening_risk_score,
    latest.escalated_on,
    levels.risk_code_name_zh as level_zh,
    latest.risk_date as as_of_date,
    codes.risk_code_name_zh as risk_code_zh,
    latest.risk_score,
    latest.days_open,
    latest.episode_state_name_zh as state_zh,
    latest.feedback_due_at,
    latest.feedback_received_at,
    coalesce(answers.answer_count, 0)::integer as answer_count,
    latest.closed_on,
    latest.model_version
from latest
inner join opening on latest.episode_id = opening.episode_id
inner join {{ ref('risk_code') }} as opening_codes on latest.opening_code = opening_codes.risk_code
inner join {{ ref('risk_code') }} as levels on latest.level_code = levels.risk_code
inner join {{ ref('risk_code') }} as codes on latest.risk_code = codes.risk_code
left join answers on latest.episode_id = answers.episode_id
