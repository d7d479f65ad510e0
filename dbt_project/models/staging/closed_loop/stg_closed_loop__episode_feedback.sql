-- Every feedback answer (跟踪反馈) recorded by the feedback form, oldest first per episode; a later
-- answer amends an earlier one (both are kept). Times as the warehouse's naive Asia/Shanghai time.
-- The person responsible stays in the operational table (personal data). Cause and measures are
-- published to the dashboards: stations write the responsible person's name and phone numbers into
-- them, so the name (surname kept) and digit runs are masked here.
with

answers as (
    select
        *,
        nullif(trim(responsible_person), '') as person
    from {{ source('closed_loop', 'episode_feedback') }}
)

select
    feedback_id,
    episode_id,
    {{ mask_free_text(mask_person_in_text('cause', 'person')) }} as cause,
    {{ mask_free_text(mask_person_in_text('measures', 'person')) }} as measures,
    expected_recovery_date,
    received_at at time zone 'Asia/Shanghai' as received_at
from answers
