-- Landed 95598 rows that failed a check: one row per landed version and reason.
{{ quarantined_rows('work_order', ref('base_appeals__work_orders'), ['order_no']) }}
union all
{{ quarantined_rows('call_record', ref('base_appeals__call_records'), ['call_id']) }}
union all
{{ quarantined_rows('callback_survey', ref('base_appeals__callback_surveys'), ['survey_id']) }}
