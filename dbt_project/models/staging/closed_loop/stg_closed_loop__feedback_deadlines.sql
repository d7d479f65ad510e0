-- Hours until feedback is due after a sheet of each code, in the selected risk-model version.
select
    model_version,
    risk_code,
    feedback_deadline_hours
from {{ ref('feedback_deadlines') }}
where model_version = {{ selected_model_version() }}
