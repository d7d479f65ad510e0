{{ config(materialized='table', indexes=[{'columns': ['station_code']}]) }}
-- The orders behind each station's worst indicator on the latest published day: the indicator with
-- the highest score among those fed by orders (int_indicator_events, the one definition of which
-- order feeds which indicator on which date; A4 is a state of the areas, not orders), and the orders
-- that add to its numerator within its window. No personal data (no customer, phone, text, handler).
with

latest as (
    select max(risk_date) as risk_date from {{ ref('unit_indicator_daily') }}
),

order_indicators as (
    select distinct indicator_code
    from {{ ref('int_indicator_events') }}
),

worst as (
    select distinct on (scores.org_code)
        scores.org_code,
        scores.risk_date,
        scores.indicator_code,
        scores.indicator_score,
        indicators.indicator_label_zh,
        indicators.window_days
    from {{ ref('unit_indicator_daily') }} as scores
    inner join latest on scores.risk_date = latest.risk_date
    inner join order_indicators on scores.indicator_code = order_indicators.indicator_code
    inner join {{ ref('risk_indicator') }} as indicators on scores.indicator_code = indicators.indicator_code
    where scores.org_level = 'station'
    order by scores.org_code asc, scores.indicator_score desc, scores.indicator_code asc
),

behind as (
    select distinct on (worst.org_code, events.order_no)
        worst.*,
        events.order_no,
        events.event_date
    from worst
    inner join {{ ref('int_indicator_events') }} as events
        on
            worst.org_code = events.station_code
            and worst.indicator_code = events.indicator_code
            and events.event_date between worst.risk_date - (worst.window_days - 1) and worst.risk_date
    where events.numerator > 0
    order by worst.org_code asc, events.order_no asc, events.event_date desc
),

labels as (
    select * from {{ ref('stg_risk_model__source_value_labels') }}
)

select
    behind.risk_date,
    units.province_code,
    units.city_code,
    units.city_name,
    units.county_code,
    units.county_name,
    units.station_code,
    units.station_name,
    behind.indicator_code,
    behind.indicator_label_zh as indicator_label,
    behind.indicator_score,
    behind.event_date,
    orders.order_no,
    coalesce(order_types.name_zh, orders.order_type) as order_type_zh,
    coalesce(channels.name_zh, orders.channel) as channel_zh,
    coalesce(categories.name_zh, orders.category) as category_zh,
    complaint_levels.name_zh as complaint_level_zh,
    coalesce(order_states.name_zh, orders.order_status) as order_status_zh,
    orders.accept_time,
    orders.deadline_time,
    orders.reply_time,
    orders.finish_time,
    orders.first_arrive_time,
    orders.arrival_deadline,
    orders.return_count
from behind
inner join {{ ref('org_unit') }} as units on behind.org_code = units.org_code
inner join {{ ref('fct_work_order') }} as orders on behind.order_no = orders.order_no
left join labels as order_types on order_types.enumeration = 'order_type' and orders.order_type = order_types.value
left join labels as channels on channels.enumeration = 'channel' and orders.channel = channels.value
left join labels as categories on categories.enumeration = 'category' and orders.category = categories.value
left join labels as complaint_levels
    on complaint_levels.enumeration = 'complaint_level' and orders.complaint_level = complaint_levels.value
left join labels as order_states
    on order_states.enumeration = 'order_status' and orders.order_status = order_states.value
