-- Every landed version of every callback survey, typed, comment masked, with the reasons it would be
-- quarantined.
with

landed as (
    select
        landed_rows.survey_id::text as survey_id,
        landed_rows.order_no::text as order_no,
        landed_rows.survey_time::timestamp as survey_time,
        landed_rows.result::text as survey_result,
        {{ mask_free_text('landed_rows.comment::text') }} as comment_masked,
        landed_rows.updated_at::timestamp as updated_at,
        {{ landing_columns() }}
    from {{ source('appeals', 'callback_survey') }} as landed_rows
    {{ join_batches() }}
),

ranked as (
    select
        *,
        {{ version_ranks(['survey_id']) }}
    from landed
),

checked as (
    select
        *,
        {{ quarantine_reasons({
            'duplicate_key': 'version_in_batch > 1',
            'future_timestamp': is_future(['survey_time']),
            'bad_enum': is_bad_enum('survey_result', 'survey_result'),
        }) }} as quarantine_reasons
    from ranked
)

select
    *,
    {{ quarantine_action('quarantine_reasons') }} as quarantine_action
from checked
