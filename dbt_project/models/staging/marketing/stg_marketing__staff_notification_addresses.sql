-- Who receives the closed loop's sheets and where they reach them: the name, mobile and work e-mail of
-- each staff member's latest landed version, as the source holds them (the SMS gateway needs the number
-- itself, the weekly interview list names a station's leaders). A view, so no copy of them; only the
-- closed loop's role may read it (staging is not for BI).
{{ config(materialized='view', grants={'select': [env_var('SR_CLOSED_LOOP_ROLE')]}) }}

select distinct on (staff_id)
    staff_id,
    staff_name,
    mobile,
    email
from {{ source('marketing', 'staff') }}
where staff_id is not null
order by staff_id asc, updated_at desc, _batch_id desc
