-- What a risk report sheet (风险报告单) lists behind its worst indicators: the
-- `sheet_worst_indicator_count` indicators with the highest scores above zero on the sheet's day
-- (ties: in catalogue order), how many orders add to each one's numerator within its window
-- (int_indicator_events), and the latest `sheet_orders_per_indicator` of them. One row per listed
-- order; an indicator without orders (A4 is a state of the areas) has one row without an order.
-- Order facts with their Chinese labels only: no customer, phone, text or handler.
with

sheets as (
    select * from {{ ref('fct_risk_sheet') }}
),

parameters as (
    select * from {{ ref('stg_closed_loop__parameters') }}
),

labels as (
    select * from {{ ref('stg_risk_model__source_value_labels') }}
),

ranked as (
    select
        sheets.sheet_id,
        sheets.risk_date,
        sheets.station_code,
        scores.indicator_code,
        scores.indicator_score,
        indicators.window_days,
        row_number() over (
            partition by sheets.sheet_id order by scores.indicator_score desc, scores.indicator_code asc
        ) as indicator_rank
    from sheets
    inner join {{ ref('fct_unit_indicator_daily') }} as scores
        on sheets.station_code = scores.org_code and sheets.risk_date = scores.risk_date
    inner join {{ ref('stg_risk_model__indicators') }} as indicators
        on scores.indicator_code = indicators.indicator_code
    where scores.indicator_score > 0
),

worst as (
    select ranked.*
    from ranked
    cross join parameters
    where ranked.indicator_rank <= parameters.sheet_worst_indicator_count
),

behind as (
    select
        worst.sheet_id,
        events.order_no,
        count(*) over (partition by worst.sheet_id, worst.indicator_code) as orders_behind,
        row_number() over (
            partition by worst.sheet_id, worst.indicator_code
            order by orders.accept_time desc, events.order_no asc
        ) as order_rank,
        worst.indicator_code
    from worst
    inner join {{ ref('int_indicator_events') }} as events
        on
            worst.station_code = events.station_code
            and worst.indicator_code = events.indicator_code
            and events.event_date between worst.risk_date - (worst.window_days - 1) and worst.risk_date
    inner join {{ ref('fct_work_order') }} as orders on events.order_no = orders.order_no
    where events.numerator > 0
)

select
    worst.sheet_id || ':' || worst.indicator_code || ':' || coalesce(behind.order_rank, 0) as sheet_order_id,
    worst.sheet_id,
    worst.risk_date,
    worst.indicator_rank::integer as indicator_rank,
    worst.indicator_code,
    worst.indicator_score,
    coalesce(behind.orders_behind, 0)::integer as orders_behind,
    behind.order_rank::integer as order_rank,
    orders.order_no,
    orders.accept_time,
    coalesce(order_types.name_zh, orders.order_type) as order_type_zh,
    coalesce(categories.name_zh, orders.category) as category_zh,
    coalesce(channels.name_zh, orders.channel) as channel_zh,
    coalesce(order_states.name_zh, orders.order_status) as order_status_zh,
    {{ selected_model_version() }}::text as model_version
from worst
cross join parameters
left join behind
    on
        worst.sheet_id = behind.sheet_id
        and worst.indicator_code = behind.indicator_code
        and parameters.sheet_orders_per_indicator >= behind.order_rank
left join {{ ref('fct_work_order') }} as orders on behind.order_no = orders.order_no
left join labels as order_types on order_types.enumeration = 'order_type' and orders.order_type = order_types.value
left join labels as categories on categories.enumeration = 'category' and orders.category = categories.value
left join labels as channels on channels.enumeration = 'channel' and orders.channel = channels.value
left join labels as order_states
    on order_states.enumeration = 'order_status' and orders.order_status = order_states.value
