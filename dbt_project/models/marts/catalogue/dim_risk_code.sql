-- The codes red / yellow / green of the selected risk-model version: names, score bands in words
-- and the override that raises a station to the code, all from the seeds.
with

thresholds as (
    select
        *,
        lead(min_risk_score) over (order by min_risk_score) as next_min_risk_score
    from {{ ref('stg_risk_model__code_thresholds') }}
),

-- The override with its version's numbers: the window, and the orders it takes to raise to the code.
counted as (
    select
        overrides.*,
        risk_parameters.override_window_days::text as window_days,
        (case
            when overrides.raises_to_risk_code = 'red' then risk_parameters.override_red_min_orders
            else risk_parameters.override_yellow_min_orders
        end)::text as min_orders
    from {{ ref('stg_risk_model__overrides') }} as overrides
    cross join {{ ref('stg_risk_model__parameters') }} as risk_parameters
),

overrides as (
    select
        raises_to_risk_code,
        override_reason,
        replace(replace(description_zh_template, '{window_days}', window_days), '{min_orders}', min_orders)
            as override_description_zh,
        replace(replace(description_en_template, '{window_days}', window_days), '{min_orders}', min_orders)
            as override_description_en
    from counted
)

select
    thresholds.risk_code,
    thresholds.risk_code_name_zh,
    thresholds.risk_code_name_en,
    thresholds.severity,
    thresholds.min_risk_score,
    thresholds.next_min_risk_score as below_risk_score,
    -- e.g. 红码≥60, 黄码40–60, 绿码<40
    thresholds.risk_code_name_zh || case
        when thresholds.next_min_risk_score is null then '≥' || thresholds.min_risk_score::text
        when thresholds.min_risk_score <= 0 then '<' || thresholds.next_min_risk_score::text
        else thresholds.min_risk_score::text || '–' || thresholds.next_min_risk_score::text
    end as score_band_zh,
    overrides.override_reason,
    overrides.override_description_zh,
    overrides.override_description_en,
    thresholds.model_version
from thresholds
left join overrides on thresholds.risk_code = overrides.raises_to_risk_code
