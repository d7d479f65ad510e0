{{ config(materialized='view') }}
-- Each warning episode's timeline: code, score and state on every day it was open, and the risk
-- report sheet issued that day, named from the seeds.
select
    episode_days.risk_date,
    episode_days.episode_id,
    episode_days.province_code,
    episode_days.city_code,
    episode_days.city_name,
    episode_days.county_name,
    episode_days.station_name,
    codes.risk_code_name_zh as risk_code_zh,
    episode_days.risk_score,
    episode_days.days_open,
    episode_days.episode_state_name_zh as state_zh,
    sheets.sheet_kind_name_zh as sheet_zh,
    sheets.feedback_due_at as sheet_due_at,
    episode_days.feedback_received_at,
    episode_days.feedback_cause,
    episode_days.feedback_measures,
    episode_days.expected_recovery_date,
    episode_days.closed_on
from {{ ref('station_episode_daily') }} as episode_days
inner join {{ ref('risk_code') }} as codes on episode_days.risk_code = codes.risk_code
left join {{ ref('risk_sheet') }} as sheets
    on episode_days.episode_id = sheets.episode_id and episode_days.risk_date = sheets.risk_date
