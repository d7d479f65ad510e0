{{ config(materialized='view') }}
-- Quarantine counts as the data-quality dashboard shows them: per day, source table, reason and
-- action, with the action's name.
select
    counts.quarantine_date,
    counts.source_system,
    counts.source_table,
    counts.reason,
    counts.quarantine_action,
    actions.name_zh as quarantine_action_zh,
    counts.row_count,
    counts.key_count
from {{ ref('fct_quarantine_daily') }} as counts
inner join {{ ref('quality_labels') }} as actions
    on actions.domain = 'quarantine_action' and counts.quarantine_action = actions.value
