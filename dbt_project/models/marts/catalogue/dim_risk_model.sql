-- The selected risk-model version in one row: the thresholds, names and rule texts every dashboard
-- certifies and explains its numbers with (the Superset bundle's `risk_model` template values).
with

codes as (
    select * from {{ ref('dim_risk_code') }}
),

parameters as (
    select * from {{ ref('stg_risk_model__parameters') }}
),

closed_loop as (
    select
        loop_parameters.closure_green_days,
        max(deadlines.feedback_deadline_hours) filter (where deadlines.risk_code = 'red') as red_feedback_hours,
        max(deadlines.feedback_deadline_hours) filter (where deadlines.risk_code = 'yellow') as yellow_feedback_hours
    from {{ ref('stg_closed_loop__parameters') }} as loop_parameters
    cross join {{ ref('stg_closed_loop__feedback_deadlines') }} as deadlines
    group by loop_parameters.closure_green_days
),

named as (
    select
        model_version,
        string_agg(score_band_zh, '，' order by severity desc) as score_bands_zh,
        max(min_risk_score) filter (where risk_code = 'red') as red_min_score,
        max(min_risk_score) filter (where risk_code = 'yellow') as yellow_min_score,
        max(risk_code_name_zh) filter (where risk_code = 'red') as red_name_zh,
        max(risk_code_name_zh) filter (where risk_code = 'yellow') as yellow_name_zh,
        max(risk_code_name_zh) filter (where risk_code = 'green') as green_name_zh
    from codes
    group by model_version
)

select
    named.model_version,
    named.score_bands_zh,
    '口径同风险模型 ' || named.model_version || '（dbt marts）；' || named.score_bands_zh || '。' as certification_zh,
    named.red_min_score,
    named.yellow_min_score,
    named.red_name_zh,
    named.yellow_name_zh,
    named.green_name_zh,
    '综合风险分 R ≥ ' || named.red_min_score || ' 为' || named.red_name_zh || '，'
    || named.yellow_min_score || ' ≤ R < ' || named.red_min_score || ' 为' || named.yellow_name_zh
    || '，其余为' || named.green_name_zh || '；' || parameters.override_window_days
    || ' 日内严重投诉或 12398 工单可把供电所升为' || named.yellow_name_zh || '或' || named.red_name_zh || '。'
        as code_rule_zh,
    '口径同风险模型 ' || named.model_version || '（dbt marts，风险预警闭环）：' || named.red_name_zh || '反馈时限'
    || closed_loop.red_feedback_hours || '小时，' || named.yellow_name_zh || closed_loop.yellow_feedback_hours
    || '小时；反馈后连续' || closed_loop.closure_green_days || '天' || named.green_name_zh || '即风险消除。'
        as closed_loop_certification_zh,
    closed_loop.closure_green_days
from named
cross join parameters
cross join closed_loop
