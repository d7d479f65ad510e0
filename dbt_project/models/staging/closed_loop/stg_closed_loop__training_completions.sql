-- Every answer of the training completion form, oldest first per assignment; a later answer amends an
-- earlier one (both are kept). Who recorded it stays in the operational table (personal data).
select
    completion_id,
    assignment_id,
    is_completed,
    completed_on,
    received_at at time zone 'Asia/Shanghai' as received_at
from {{ source('closed_loop', 'training_completion') }}
