{{ config(materialized='table', indexes=[{'columns': ['episode_id'], 'unique': true}]) }}
-- Warning episodes on the latest published day that are open (or closed that day), overdue feedback
-- first in the dashboard. A day's state counts answers stored before the day ended; the board also
-- shows answers stored since, so a unit that answered sees it at the next publication, not a day
-- later. The person responsible stays in the operational table ops.episode_feedback.
with

latest as (
    select max(risk_date) as risk_date from {{ ref('station_episode_daily') }}
),

episode_days as (
    select episode_days.*
    from {{ ref('station_episode_daily') }} as episode_days
    inner join latest on episode_days.risk_date = latest.risk_date
),

feedback as (
    select * from {{ ref('stg_closed_loop__episode_feedback') }}
),

states as (
    select * from {{ ref('stg_closed_loop__episode_states') }}
),

tracked as (
    select
        episode_days.*,
        coalesce(episode_days.feedback_received_at, answer_since.received_at) as received_at,
        case
            when
                episode_days.episode_state in ('awaiting_feedback', 'feedback_overdue')
                and answer_since.received_at is not null
                then 'awaiting_recovery'
            else episode_days.episode_state
        end as tracked_state
    from episode_days
    -- the first answer to the episode's latest sheet, stored after the day ended
    left join lateral (
        select feedback.received_at
        from feedback
        where
            feedback.episode_id = episode_days.episode_id
            and feedback.received_at >= (episode_days.sheet_on + 1)::timestamp
            and feedback.received_at >= (episode_days.risk_date + 1)::timestamp
        order by feedback.received_at
        limit 1
    ) as answer_since on true
)

select
    tracked.risk_date,
    tracked.episode_id,
    tracked.province_code,
    tracked.city_code,
    tracked.city_name,
    tracked.county_code,
    tracked.county_name,
    tracked.station_code,
    tracked.station_name,
    tracked.level_code,
    levels.risk_code_name_zh as level_zh,
    codes.risk_code_name_zh as risk_code_zh,
    tracked.risk_score,
    tracked.opened_on,
    tracked.escalated_on,
    tracked.days_open,
    states.episode_state_name_zh as state_zh,
    states.display_order as episode_state_order,
    tracked.feedback_due_at,
    tracked.received_at as feedback_received_at,
    case when tracked.received_at > tracked.feedback_due_at then '是' else '否' end as feedback_late_zh,
    (tracked.tracked_state = 'feedback_overdue')::integer as is_overdue,
    latest_answer.cause as feedback_cause,
    latest_answer.measures as feedback_measures,
    latest_answer.expected_recovery_date,
    tracked.green_days_since_feedback,
    tracked.closed_on
from tracked
inner join states on tracked.tracked_state = states.episode_state
inner join {{ ref('risk_code') }} as levels on tracked.level_code = levels.risk_code
inner join {{ ref('risk_code') }} as codes on tracked.risk_code = codes.risk_code
-- the latest answer (amendments included), whenever it was stored
left join lateral (
    select
        feedback.cause,
        feedback.measures,
        feedback.expected_recovery_date
    from feedback
    where feedback.episode_id = tracked.episode_id
    order by feedback.received_at desc, feedback.feedback_id desc
    limit 1
) as latest_answer on true
