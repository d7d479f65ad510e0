-- The targeted-training courses, each with the indicator it improves (an indicator may have several).
{{ config(grants={'select': [env_var('SR_CLOSED_LOOP_ROLE')]}) }}
select
    course_code,
    indicator_code,
    course_title_zh,
    course_title_en,
    course_hours
from {{ ref('training_courses') }}
