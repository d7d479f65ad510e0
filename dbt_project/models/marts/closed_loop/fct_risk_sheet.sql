-- One risk report sheet (风险报告单) per episode opening and escalation: what it is about and when
-- its feedback is due. A sheet never changes once its day is built; delivery (service_risk.closed_loop)
-- sends each sheet once per recipient and channel.
with

sheet_days as (
    select
        episode_days.*,
        case when episode_days.risk_date = episode_days.opened_on then 'opening' else 'escalation' end as sheet_kind
    from {{ ref('fct_station_episode_daily') }} as episode_days
    where episode_days.risk_date = episode_days.sheet_on
)

select
    sheet_days.episode_id || ':' || sheet_days.sheet_kind as sheet_id,
    sheet_days.episode_id,
    sheet_days.sheet_kind,
    kinds.sheet_kind_name_zh,
    sheet_days.risk_date,
    sheet_days.station_code,
    sheet_days.station_name,
    sheet_days.county_code,
    sheet_days.county_name,
    sheet_days.city_code,
    sheet_days.city_name,
    sheet_days.risk_code,
    codes.risk_code_name_zh,
    sheet_days.risk_score,
    (sheet_days.risk_date + 1)::timestamp as issued_at,
    sheet_days.feedback_due_at,
    sheet_days.model_version
from sheet_days
inner join {{ ref('stg_closed_loop__sheet_kinds') }} as kinds on sheet_days.sheet_kind = kinds.sheet_kind
inner join {{ ref('dim_risk_code') }} as codes on sheet_days.risk_code = codes.risk_code
