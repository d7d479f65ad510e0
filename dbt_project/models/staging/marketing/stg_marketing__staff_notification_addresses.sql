-- Where the risk report sheets reach each staff member: the mobile and work e-mail of the latest landed
-- version, as the source holds them (the SMS gateway needs the number itself). A view, so no copy of
-- the numbers; only the closed loop's role may read it (staging is not for BI).
{{ config(materialized='view', grants={'select': [env_var('SR_CLOSED_LOOP_ROLE')]}) }}

select distinct on (staff_id)
    staff_id,
    mobile,
    email
from {{ source('marketing', 'staff') }}
where staff_id is not null
order by staff_id asc, updated_at desc, _batch_id desc
