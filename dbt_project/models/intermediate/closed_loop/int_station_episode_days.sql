-- Every station-day with the warning episode (风险预警) it belongs to, walked day by day per station
-- (risk-model.md "The closed loop"): a yellow or red day with no open episode opens one (also on the
-- station's first scored day); a red day in an episode whose worst code so far is yellow escalates it;
-- each opening and escalation issues a sheet whose feedback is the first answer stored after the sheet
-- (issued when its day ends); the episode closes on the last of `closure_green_days` green days in a
-- row counted from the day that feedback was stored (a day's code is only known once the day has
-- ended, so the day of the answer counts). The next yellow or red day after closure opens a new one.
-- The state of a day depends on that day and earlier ones only, so published days never change
-- unless their risk rows do. Episode id: station_code:opening day.
with recursive

parameters as (
    select * from {{ ref('stg_closed_loop__parameters') }}
),

thresholds as (
    select * from {{ ref('stg_risk_model__code_thresholds') }}
),

feedback as (
    select * from {{ ref('stg_closed_loop__episode_feedback') }}
),

station_days as (
    select
        risk.org_code as station_code,
        risk.risk_date,
        risk.risk_code,
        risk.risk_score,
        thresholds.severity,
        risk.risk_code <> 'green' as is_warning,
        row_number() over (partition by risk.org_code order by risk.risk_date) as day_number
    from {{ ref('fct_unit_risk_daily') }} as risk
    inner join thresholds on risk.risk_code = thresholds.risk_code
    where risk.org_level = 'station'
),

walk as (
    select
        station_days.station_code,
        station_days.day_number,
        station_days.risk_date,
        station_days.risk_code,
        station_days.severity,
        case when station_days.is_warning then station_days.station_code || ':' || station_days.risk_date end
            as episode_id,
        case when station_days.is_warning then station_days.risk_date end as opened_on,
        case when station_days.is_warning then station_days.risk_code end as opening_code,
        case when station_days.is_warning then station_days.risk_code end as level_code,
        case when station_days.is_warning then station_days.severity end as level_severity,
        null::date as escalated_on,
        case when station_days.is_warning then station_days.risk_date end as sheet_on,
        case when station_days.is_warning then station_days.risk_code end as sheet_code,
        null::timestamp as feedback_received_at,
        0 as green_streak,
        null::date as closed_on
    from station_days
    where station_days.day_number = 1

    union all

    select
        next_day.station_code,
        next_day.day_number,
        next_day.risk_date,
        next_day.risk_code,
        next_day.severity,
        state.episode_id,
        state.opened_on,
        state.opening_code,
        state.level_code,
        state.level_severity,
        state.escalated_on,
        state.sheet_on,
        state.sheet_code,
        answer.received_at,
        case
            when next_day.is_warning or answer.received_at is null or state.is_new then 0
            else walk.green_streak + 1
        end as green_streak,
        case
            when
                not next_day.is_warning and answer.received_at is not null and not state.is_new
                and walk.green_streak + 1 = parameters.closure_green_days
                then next_day.risk_date
        end as closed_on
    from walk
    inner join station_days as next_day
        on walk.station_code = next_day.station_code and walk.day_number + 1 = next_day.day_number
    cross join parameters
    -- correlated with the walk's previous day, so subqueries, not CTEs
    cross join
        lateral (  -- noqa: ST05
            select
                -- a new episode when none is open (never opened, or closed the day before)
                (walk.episode_id is null or walk.closed_on is not null) as is_new,
                next_day.severity > walk.level_severity and walk.closed_on is null as escalates
        ) as transition
    cross join
        lateral (  -- noqa: ST05
            select
                transition.is_new,
                case
                    when not transition.is_new then walk.episode_id
                    when next_day.is_warning then next_day.station_code || ':' || next_day.risk_date
                end as episode_id,
                case
                    when not transition.is_new then walk.opened_on
                    when next_day.is_warning then next_day.risk_date
                end as opened_on,
                case
                    when not transition.is_new then walk.opening_code
                    when next_day.is_warning then next_day.risk_code
                end as opening_code,
                case
                    when transition.is_new and next_day.is_warning then next_day.risk_code
                    when transition.is_new then null
                    when transition.escalates then next_day.risk_code
                    else walk.level_code
                end as level_code,
                case
                    when transition.is_new and next_day.is_warning then next_day.severity
                    when transition.is_new then null
                    when transition.escalates then next_day.severity
                    else walk.level_severity
                end as level_severity,
                case
                    when transition.is_new then null
                    when transition.escalates then next_day.risk_date
                    else walk.escalated_on
                end as escalated_on,
                case
                    when transition.is_new and next_day.is_warning then next_day.risk_date
                    when transition.is_new then null
                    when transition.escalates then next_day.risk_date
                    else walk.sheet_on
                end as sheet_on,
                case
                    when transition.is_new and next_day.is_warning then next_day.risk_code
                    when transition.is_new then null
                    when transition.escalates then next_day.risk_code
                    else walk.sheet_code
                end as sheet_code
        ) as state
    -- the first answer to the episode's latest sheet stored before this day ended
    left join lateral (
        select feedback.received_at
        from feedback
        where
            feedback.episode_id = state.episode_id
            and feedback.received_at >= (state.sheet_on + 1)::timestamp
            and feedback.received_at < (next_day.risk_date + 1)::timestamp
        order by feedback.received_at
        limit 1
    ) as answer on true
)

select
    station_code,
    risk_date,
    risk_code,
    episode_id,
    opened_on,
    opening_code,
    level_code,
    escalated_on,
    sheet_on,
    sheet_code,
    feedback_received_at,
    green_streak,
    closed_on
from walk
