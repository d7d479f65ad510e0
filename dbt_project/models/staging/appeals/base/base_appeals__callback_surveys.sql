-- Every landed version of every callback survey, typed, comment masked, with the reasons it would be
-- quarantined. Incremental: a night recomputes the surveys that changed or whose order did
-- (macros/landing.sql).
{{ config(**incremental_base_config()) }}
{%- set reference_checks = {
    'unknown_reference': is_unknown_reference('order_no', 'known_order'),
} %}
{%- set reference_joins = [
    join_known_keys('known_order', 'order_no', ref('stg_appeals__work_orders'), 'order_no'),
] %}
with

landed as (
    select
        landed_rows.survey_id::text as survey_id,
        landed_rows.order_no::text as order_no,
        landed_rows.survey_time::timestamp as survey_time,
        landed_rows.result::text as survey_result,
        {{ mask_free_text('landed_rows.comment::text') }} as comment_masked,
        landed_rows.updated_at::timestamp as updated_at,
        {{ landing_columns() }},
        {{ version_key(['survey_id'], 'landed_rows') }} as version_key
    from {{ source('appeals', 'callback_survey') }} as landed_rows
    {{ join_batches() }}
    {% if is_incremental() %}
        {{ versions_to_build(source('appeals', 'callback_survey'), ['survey_id'], reference_checks, reference_joins) }}
    {% endif %}
),

ranked as (
    select
        *,
        {{ version_ranks(['survey_id']) }}
    from landed
),

checked as (
    select
        ranked.*,
        {{ quarantine_reasons({
            'duplicate_key': 'version_in_batch > 1',
            'future_timestamp': is_future(['survey_time']),
            'bad_enum': is_bad_enum('survey_result', 'survey_result'),
            'missing_value': is_missing(['survey_id', 'order_no', 'survey_time', 'survey_result']),
            'unknown_reference': reference_checks['unknown_reference'],
            'implausible_timestamp': is_implausible(['survey_time']),
        }) }} as quarantine_reasons
    from ranked
    {{ reference_joins | join('\n    ') }}
)

select
    *,
    {{ quarantine_action('quarantine_reasons') }} as quarantine_action
from checked
