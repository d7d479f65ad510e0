{{ config(materialized='view') }}
-- The risk report sheets (风险报告单) of each published episode with what each lists behind its worst
-- indicators: one row per listed order, an indicator without orders one row, a sheet that lists no
-- indicator one row. For the episode's page, scoped like the other published rows.
select
    sheets.sheet_id,
    sheets.episode_id,
    episodes.province_code,
    sheets.city_code,
    sheets.city_name,
    sheets.county_code,
    sheets.county_name,
    sheets.station_code,
    sheets.station_name,
    sheets.sheet_kind_name_zh as sheet_kind_zh,
    sheets.issued_at,
    sheets.risk_code_name_zh as risk_code_zh,
    sheets.risk_score,
    sheets.feedback_due_at,
    orders.indicator_rank,
    indicators.indicator_label_zh as indicator_label,
    orders.indicator_score,
    orders.orders_behind,
    orders.order_rank,
    orders.order_no,
    orders.accept_time,
    orders.order_type_zh,
    orders.category_zh,
    orders.channel_zh,
    orders.order_status_zh
from {{ ref('risk_sheet') }} as sheets
inner join {{ ref('risk_episode') }} as episodes on sheets.episode_id = episodes.episode_id
left join {{ ref('risk_sheet_order') }} as orders on sheets.sheet_id = orders.sheet_id
left join {{ ref('risk_indicator') }} as indicators on orders.indicator_code = indicators.indicator_code
