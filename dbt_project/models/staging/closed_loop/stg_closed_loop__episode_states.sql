-- Episode states with their labels and display order, in the selected risk-model version.
select
    model_version,
    episode_state,
    episode_state_name_zh,
    episode_state_name_en,
    display_order
from {{ ref('episode_states') }}
where model_version = {{ selected_model_version() }}
