{{ config(materialized='view') }}
-- Every answer to a published episode (跟踪反馈), numbered in the order received: a later answer
-- amends an earlier one and both stay. Shown as stored, without waiting for a publication; the
-- person responsible stays in the operational table (cause and measures are masked in staging).
select
    feedback.feedback_id,
    feedback.episode_id,
    episodes.province_code,
    episodes.city_code,
    episodes.city_name,
    episodes.county_code,
    episodes.county_name,
    episodes.station_code,
    episodes.station_name,
    row_number() over (
        partition by feedback.episode_id order by feedback.received_at asc, feedback.feedback_id asc
    )::integer as answer_number,
    feedback.received_at,
    feedback.cause,
    feedback.measures,
    feedback.expected_recovery_date
from {{ ref('stg_closed_loop__episode_feedback') }} as feedback
inner join {{ ref('risk_episode') }} as episodes on feedback.episode_id = episodes.episode_id
