-- The weekly interview list (每周约谈): every Monday, per city company, the warning episodes whose
-- feedback was overdue on a day of the week before, or that were red for more than
-- `interview_red_days` days in a row during it. One row per Monday and episode, for the weeks the
-- warehouse holds whole; the episode as it stood on the week's last day it was open.
with

episode_days as (
    select * from {{ ref('fct_station_episode_daily') }}
),

parameters as (
    select * from {{ ref('stg_closed_loop__parameters') }}
),

runs as (
    select
        episode_days.*,
        date_trunc('week', episode_days.risk_date)::date + 7 as interview_on,
        -- days in a row the code has been red up to this day (0 when it is not red)
        case
            when episode_days.risk_code = 'red'
                then episode_days.risk_date - coalesce(
                    max(case when episode_days.risk_code <> 'red' then episode_days.risk_date end) over (
                        partition by episode_days.episode_id order by episode_days.risk_date
                    ),
                    episode_days.opened_on - 1
                )
            else 0
        end as red_days_in_row
    from episode_days
),

weeks as (
    select
        interview_on,
        episode_id,
        count(*) filter (where is_feedback_overdue)::integer as overdue_days,
        max(red_days_in_row)::integer as most_red_days_in_row
    from runs
    group by interview_on, episode_id
),

week_ends as (
    select distinct on (interview_on, episode_id) *
    from runs
    order by interview_on asc, episode_id asc, risk_date desc
),

complete_weeks as (
    select max(risk_date) + 1 as first_open_monday
    from episode_days
)

select
    week_ends.episode_id || ':' || weeks.interview_on as interview_item_id,
    weeks.interview_on,
    weeks.interview_on - 7 as week_from,
    weeks.interview_on - 1 as week_to,
    week_ends.episode_id,
    week_ends.province_code,
    week_ends.city_code,
    week_ends.city_name,
    week_ends.county_code,
    week_ends.county_name,
    week_ends.station_code,
    week_ends.station_name,
    week_ends.opened_on,
    week_ends.level_code,
    week_ends.risk_date as as_of_date,
    week_ends.risk_code,
    week_ends.risk_score,
    week_ends.days_open,
    weeks.overdue_days,
    weeks.most_red_days_in_row,
    weeks.overdue_days > 0 as was_feedback_overdue,
    weeks.most_red_days_in_row > parameters.interview_red_days as stayed_red,
    week_ends.feedback_due_at,
    week_ends.feedback_received_at,
    week_ends.closed_on,
    episodes.worst_indicator_1,
    episodes.worst_indicator_2,
    episodes.worst_indicator_3,
    week_ends.model_version
from weeks
inner join week_ends on weeks.interview_on = week_ends.interview_on and weeks.episode_id = week_ends.episode_id
inner join {{ ref('fct_risk_episode') }} as episodes on weeks.episode_id = episodes.episode_id
cross join parameters
cross join complete_weeks
where
    weeks.interview_on <= complete_weeks.first_open_monday
    and (weeks.overdue_days > 0 or weeks.most_red_days_in_row > parameters.interview_red_days)
