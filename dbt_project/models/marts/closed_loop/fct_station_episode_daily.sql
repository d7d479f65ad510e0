-- Each warning episode on each day it is open (its closing day included): the day's code, the
-- episode's sheet, feedback and state as of the end of that day. The episode's timeline, and what
-- the published tables copy per day (a day's row never changes unless its risk rows do).
with

episode_days as (
    select * from {{ ref('int_station_episode_days') }}
    where episode_id is not null
),

deadlines as (
    select * from {{ ref('stg_closed_loop__feedback_deadlines') }}
),

states as (
    select * from {{ ref('stg_closed_loop__episode_states') }}
),

feedback as (
    select * from {{ ref('stg_closed_loop__episode_feedback') }}
),

timed as (
    select
        episode_days.*,
        -- a sheet is issued when its day has ended (the day's code exists from then on)
        (episode_days.sheet_on + 1)::timestamp
        + make_interval(hours => deadlines.feedback_deadline_hours) as feedback_due_at
    from episode_days
    inner join deadlines on episode_days.sheet_code = deadlines.risk_code
),

stated as (
    select
        timed.*,
        case
            when timed.closed_on is not null then 'closed'
            when timed.feedback_received_at is not null then 'awaiting_recovery'
            when timed.feedback_due_at < (timed.risk_date + 1)::timestamp then 'feedback_overdue'
            else 'awaiting_feedback'
        end as episode_state
    from timed
)

select
    stated.episode_id || ':' || stated.risk_date as episode_day_id,
    stated.risk_date,
    stated.episode_id,
    stated.station_code,
    units.org_name as station_name,
    units.province_code,
    units.county_code,
    units.county_name,
    units.city_code,
    units.city_name,
    stated.risk_code,
    risk.risk_score,
    stated.opened_on,
    stated.opening_code,
    stated.level_code,
    stated.escalated_on,
    (stated.risk_date - stated.opened_on + 1)::integer as days_open,
    stated.sheet_on,
    stated.sheet_code,
    stated.feedback_due_at,
    stated.feedback_received_at,
    coalesce(stated.feedback_received_at > stated.feedback_due_at, false) as is_feedback_late,
    stated.episode_state = 'feedback_overdue' as is_feedback_overdue,
    latest_answer.cause as feedback_cause,
    latest_answer.measures as feedback_measures,
    latest_answer.expected_recovery_date,
    stated.green_streak::integer as green_days_since_feedback,
    stated.closed_on,
    stated.episode_state,
    states.episode_state_name_zh,
    states.display_order as episode_state_order,
    {{ selected_model_version() }}::text as model_version
from stated
inner join states on stated.episode_state = states.episode_state
inner join {{ ref('dim_org_unit') }} as units on stated.station_code = units.org_code
inner join {{ ref('fct_unit_risk_daily') }} as risk
    on stated.station_code = risk.org_code and stated.risk_date = risk.risk_date
-- the latest answer (amendments included) stored before the day ended
left join lateral (
    select
        feedback.cause,
        feedback.measures,
        feedback.expected_recovery_date
    from feedback
    where feedback.episode_id = stated.episode_id and feedback.received_at < (stated.risk_date + 1)::timestamp
    order by feedback.received_at desc, feedback.feedback_id desc
    limit 1
) as latest_answer on true
