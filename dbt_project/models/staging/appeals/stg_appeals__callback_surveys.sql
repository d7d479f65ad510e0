-- Current callback surveys (回访), valid rows only; the free-text comment is masked.
select
    survey_id,
    order_no,
    survey_time,
    survey_result,
    comment_masked,
    updated_at
from {{ ref('base_appeals__callback_surveys') }}
where is_current_version and quarantine_action is distinct from 'dropped'
