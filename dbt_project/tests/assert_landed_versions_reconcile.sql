-- sources.md "Dirty data": for every landed table, landed versions = current valid + superseded +
-- quarantined, and staging holds exactly the current valid ones. A row here means a version was lost
-- (or counted twice) between landing and staging; the quarantine rules keep this from happening, so
-- it can only fail on a bug. Orders must also all reach the order fact (no join drops one).
-- Extraction lands while dbt builds: the base tables, built in this run, cannot hold what landed after
-- the build started, so a landing table is compared with its base only when nothing has landed since.
-- Staging and the order fact are built from the base tables, so they are always compared.
{%- set build_started_at = var('build_started_at') or run_started_at %}
{%- set tables = [
    ('marketing', 'org_unit', 'marketing__org_units'),
    ('marketing', 'transformer_area', 'marketing__transformer_areas'),
    ('marketing', 'customer', 'marketing__customers'),
    ('marketing', 'team', 'marketing__teams'),
    ('marketing', 'staff', 'marketing__staff_members'),
    ('marketing', 'unit_contact', 'marketing__unit_contacts'),
    ('appeals', 'work_order', 'appeals__work_orders'),
    ('appeals', 'call_record', 'appeals__call_records'),
    ('appeals', 'callback_survey', 'appeals__callback_surveys'),
    ('command', 'outage_event', 'command__outage_events'),
    ('command', 'repair_task', 'command__repair_tasks'),
] %}

with

counts as (
    {%- for system, table, model in tables %}
    select
        '{{ table }}' as source_table,
        (select count(*) from {{ source(system, table) }}) as landed,
        count(*) filter (where is_current_version and quarantine_action is distinct from 'dropped') as current_valid,
        count(*) filter (where not is_current_version and quarantine_action is distinct from 'dropped') as superseded,
        count(*) filter (where quarantine_action = 'dropped') as quarantined,
        (select count(*) from {{ ref('stg_' ~ model) }}) as staged,
        exists (
            select from {{ source(system, table) }} where _loaded_at >= '{{ build_started_at }}'
        ) as base_may_lag
    from {{ ref('base_' ~ model) }}
    {{ "union all" if not loop.last }}
    {%- endfor %}
)

select
    source_table,
    landed,
    current_valid,
    superseded,
    quarantined,
    staged
from counts
where (landed != current_valid + superseded + quarantined and not base_may_lag) or staged != current_valid
union all
select
    'work_order reaching fct_work_order' as source_table,
    (select count(*) from {{ ref('stg_appeals__work_orders') }}) as landed,
    count(*) as current_valid,
    0 as superseded,
    0 as quarantined,
    count(*) as staged
from {{ ref('fct_work_order') }}
having count(*) != (select count(*) from {{ ref('stg_appeals__work_orders') }})
