-- Province supervision (省公司督办): per city company and week (Monday to Sunday), the episodes
-- open at the week's end by code and with overdue feedback; the median hours from the opening
-- sheet to the first answer of the episodes first answered that week; the median days to closure
-- of those closed that week; the openings that week at stations whose previous episode had closed
-- within `reopen_window_days` days; and each figure's change on the week before. Whole weeks only.
with

cities as (
    select * from {{ ref('fct_unit_episode_daily') }}
    where org_level = 'city'
),

episodes as (
    select * from {{ ref('fct_risk_episode') }}
),

parameters as (
    select * from {{ ref('stg_closed_loop__parameters') }}
),

week_ends as (
    select
        date_trunc('week', cities.risk_date)::date as week_from,
        cities.*
    from cities
    where cities.risk_date = date_trunc('week', cities.risk_date)::date + 6
),

first_answers as (
    select
        city_code,
        date_trunc('week', first_feedback_at)::date as week_from,
        count(*)::integer as first_answered_episodes,
        percentile_cont(0.5) within group (
            order by extract(epoch from first_feedback_at - (opened_on + 1)::timestamp) / 3600
        ) as median_hours_to_feedback
    from episodes
    where first_feedback_at is not null
    group by city_code, date_trunc('week', first_feedback_at)::date
),

closures as (
    select
        city_code,
        date_trunc('week', closed_on)::date as week_from,
        count(*)::integer as closed_episodes,
        percentile_cont(0.5) within group (order by closed_on - opened_on) as median_days_to_closure
    from episodes
    where closed_on is not null
    group by city_code, date_trunc('week', closed_on)::date
),

reopenings as (
    select
        opened.city_code,
        date_trunc('week', opened.opened_on)::date as week_from,
        count(*)::integer as reopened_episodes
    from episodes as opened
    cross join parameters
    where
        exists (
            select
            from episodes as earlier
            where
                earlier.station_code = opened.station_code
                and earlier.closed_on < opened.opened_on
                and earlier.closed_on >= opened.opened_on - parameters.reopen_window_days
        )
    group by opened.city_code, date_trunc('week', opened.opened_on)::date
),

weekly as (
    select
        week_ends.city_code || ':' || week_ends.week_from as city_week_id,
        week_ends.week_from,
        week_ends.risk_date as week_to,
        week_ends.province_code,
        week_ends.city_code,
        week_ends.city_name,
        week_ends.open_episodes,
        week_ends.open_red_episodes,
        week_ends.open_yellow_episodes,
        week_ends.feedback_overdue_episodes,
        coalesce(first_answers.first_answered_episodes, 0) as first_answered_episodes,
        round(first_answers.median_hours_to_feedback::numeric, 1) as median_hours_to_feedback,
        coalesce(closures.closed_episodes, 0) as closed_episodes,
        round(closures.median_days_to_closure::numeric, 1) as median_days_to_closure,
        coalesce(reopenings.reopened_episodes, 0) as reopened_episodes,
        week_ends.model_version
    from week_ends
    left join first_answers
        on week_ends.city_code = first_answers.city_code and week_ends.week_from = first_answers.week_from
    left join closures on week_ends.city_code = closures.city_code and week_ends.week_from = closures.week_from
    left join reopenings
        on week_ends.city_code = reopenings.city_code and week_ends.week_from = reopenings.week_from
)

select
    weekly.*,
    weekly.open_episodes - lag(weekly.open_episodes) over week_before as open_episodes_change,
    weekly.open_red_episodes - lag(weekly.open_red_episodes) over week_before as open_red_episodes_change,
    weekly.feedback_overdue_episodes - lag(weekly.feedback_overdue_episodes) over week_before
        as feedback_overdue_episodes_change,
    weekly.reopened_episodes - lag(weekly.reopened_episodes) over week_before as reopened_episodes_change
from weekly
window week_before as (partition by weekly.city_code order by weekly.week_from)
