-- Frequent-outage warning tiers (at least N outages within W days) of the selected risk-model version.
select
    model_version,
    tier,
    min_outages,
    window_days
from {{ ref('outage_warning_tiers') }}
where model_version = {{ selected_model_version() }}
