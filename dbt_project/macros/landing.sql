{#- Helpers for reading the append-only landing tables: versions, quarantine checks, personal data. -#}

{#- Rank the landed versions of each key. The latest updated_at wins, then the highest batch.
    Within one batch only the latest version is kept; the others are `duplicate_key` dirt. -#}
{% macro version_ranks(key_columns) -%}
    row_number() over (
        partition by {{ key_columns | join(', ') }}, batch_id
        order by updated_at desc
    ) as version_in_batch,
    row_number() over (
        partition by {{ key_columns | join(', ') }}
        order by updated_at desc, batch_id desc
    ) = 1 as is_current_version
{%- endmacro %}


{#- The reasons a landed row is quarantined: var `quarantine_reasons` (dbt_project.yml says why). -#}
{% macro quarantine_reason_names() -%}
    {{ return(var('quarantine_reasons')) }}
{%- endmacro %}


{#- Reasons that are repaired in place (the value is nulled, the row flows on) rather than dropped. -#}
{% macro repaired_quarantine_reasons() -%}
    {{ return(var('repaired_quarantine_reasons')) }}
{%- endmacro %}


{#- `checks`: mapping reason -> SQL condition that is true for a bad row. Yields the array of reasons
    that apply (empty for a clean row). A null condition counts as passing. -#}
{% macro quarantine_reasons(checks) -%}
    {%- for reason in checks -%}
        {%- if reason not in quarantine_reason_names() -%}
            {{ exceptions.raise_compiler_error("unknown quarantine reason " ~ reason) }}
        {%- endif -%}
    {%- endfor -%}
    array_remove(array[
        {%- for reason, condition in checks.items() %}
        case when {{ condition }} then '{{ reason }}' end{{ "," if not loop.last }}
        {%- endfor %}
    ]::text [], null)
{%- endmacro %}


{#- 'dropped' when any reason drops the row, 'repaired' when all reasons are repairable, else null. -#}
{% macro quarantine_action(reasons_column) -%}
    case
        when cardinality({{ reasons_column }}) = 0 then null
        when {{ reasons_column }} <@ array[
            {%- for reason in repaired_quarantine_reasons() %}'{{ reason }}'{{ "," if not loop.last }}{% endfor -%}
        ]::text [] then 'repaired'
        else 'dropped'
    end
{%- endmacro %}


{#- An event time later than the high watermark of the batch that landed the row cannot have happened
    yet: the extraction took the row at that watermark. -#}
{% macro is_future(time_columns, high_water='batch_high_water') -%}
    (
        {%- for column in time_columns %}
        {{ column }} > {{ high_water }}{{ " or" if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}


{#- Any of the columns null or blank: a key or a value the model cannot do without. -#}
{% macro is_missing(columns) -%}
    (
        {%- for column in columns %}
        nullif(trim({{ column }}::text), '') is null{{ " or" if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}


{#- A time before var `source_min_timestamp`: no source system holds such data; one such row would
    otherwise stretch the risk days back to it. -#}
{% macro is_implausible(time_columns) -%}
    (
        {%- for column in time_columns %}
        {{ column }} < '{{ var("source_min_timestamp") }}'::timestamp{{ " or" if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}


{#- The keys a reference may point to, left-joined as `alias`; `is_unknown_reference(column, alias)`
    then tells a non-null reference that points nowhere. A hash join: `not in (subquery)` falls back
    to scanning the subquery once per row when its keys outgrow work_mem (callback surveys against
    490,000 work orders at scale 1 took over 10 minutes per test). -#}
{% macro join_known_keys(alias, column, relation, key) -%}
    left join (select distinct {{ key }} as known_key from {{ relation }}) as {{ alias }}
        on {{ column }} = {{ alias }}.known_key
{%- endmacro %}


{% macro is_unknown_reference(column, alias) -%}
    ({{ column }} is not null and {{ alias }}.known_key is null)
{%- endmacro %}


{#- A value outside its enumeration (null passes: nullability is checked elsewhere). -#}
{% macro is_bad_enum(column, domain) -%}
    ({{ column }} not in ({{ enum_values_sql(domain) }}))
{%- endmacro %}


{#- An 11-digit mainland mobile number: the only phone form the source systems take. -#}
{% macro phone_pattern() -%}
    '^1[3-9][0-9]{9}$'
{%- endmacro %}


{% macro is_malformed_phone(column) -%}
    (nullif(trim({{ column }}), '') !~ {{ phone_pattern() }})
{%- endmacro %}


{#- Salted SHA-256 of a personal value: equal values still match (repeat callers), the value is gone.
    The salt is this install's (SR_PII_HASH_SALT, kept by `service-risk init-db` in a table only the
    transformer role reads): the SQL names the function, never the value, so no view definition,
    compiled file or log holds it. The function raises when no salt is stored; as a scalar subquery
    it runs once per query, not per row. -#}
{% macro hash_personal(expression) -%}
    encode(sha256(convert_to(
        (select private.pii_hash_salt()) || ({{ expression }}), 'UTF8'
    )), 'hex')
{%- endmacro %}


{#- A well-formed phone number's hash; a malformed or empty one becomes null (repaired). -#}
{% macro hash_phone(column) -%}
    case when not {{ is_malformed_phone(column) }} then {{ hash_personal('trim(' ~ column ~ ')') }} end
{%- endmacro %}


{#- 138****5678: enough to recognise a number on the phone, not enough to call it. -#}
{% macro mask_phone(column) -%}
    case
        when not {{ is_malformed_phone(column) }}
            then left(trim({{ column }}), 3) || '****' || right(trim({{ column }}), 4)
    end
{%- endmacro %}


{#- Chinese name: surname kept, the given name starred (张** / 王*). -#}
{% macro mask_name(column) -%}
    case when {{ column }} is not null then left({{ column }}, 1) || repeat('*', greatest(char_length({{ column }}) - 1, 1)) end
{%- endmacro %}


{#- Free text: digit runs that look like phone or id numbers, and a person named after 客户/用户/联系人
    ("客户张伟来电"), are starred. Names elsewhere in the text cannot be recognised reliably, which is why
    nothing downstream of staging carries free text at all. -#}
{% macro mask_free_text(column) -%}
    regexp_replace(
        regexp_replace({{ column }}, '[0-9][0-9 -]{5,}[0-9]', '***', 'g'),
        '(客户|用户|联系人|户主)[一-龥]{2,3}(来电|反映|表示|称|投诉|要求)', '\1**\2', 'g'
    )
{%- endmacro %}


{#- The name in `person_column` written into the free text, masked like mask_name (张**). -#}
{% macro mask_person_in_text(column, person_column) -%}
    case
        when {{ person_column }} is null then {{ column }}
        else replace({{ column }}, {{ person_column }}, {{ mask_name(person_column) }})
    end
{%- endmacro %}


{#- A station code that is not a current station of the marketing system (null counts as unknown).
    NOT IN over a key column without nulls runs as one hashed subplan, not a lookup per row. -#}
{% macro is_unknown_station(column) -%}
    ({{ column }} is null or {{ column }} not in (
        select known_stations.org_code from {{ ref('stg_marketing__org_units') }} as known_stations
        where known_stations.org_level = 'station'
    ))
{%- endmacro %}


{#- The landing columns shared by every base model, and the batch's high watermark (for future times;
    falls back to the local load time for a batch without bookkeeping). -#}
{% macro landing_columns(landed_alias='landed_rows', batches_alias='batches') -%}
    {{ landed_alias }}._batch_id as batch_id,
    {{ landed_alias }}._loaded_at as loaded_at,
    coalesce({{ batches_alias }}.high_water, ({{ landed_alias }}._loaded_at at time zone 'Asia/Shanghai'))
        as batch_high_water
{%- endmacro %}


{% macro join_batches(landed_alias='landed_rows', batches_alias='batches') -%}
    left join {{ source('ops', 'extract_batch') }} as {{ batches_alias }}
        on {{ landed_alias }}._batch_id = {{ batches_alias }}.batch_id
{%- endmacro %}


{#- One row per quarantined landed version and reason, from a base model. `row_key` joins composite
    keys with '|'. -#}
{% macro quarantined_rows(source_table, base_relation, key_columns) -%}
    select
        '{{ source_table }}'::text as source_table,
        {% if key_columns | length == 1 -%}
        {{ key_columns[0] }}
        {%- else -%}
        concat_ws('|', {{ key_columns | join(', ') }})
        {%- endif %} as row_key,
        checked_rows.batch_id,
        checked_rows.version_in_batch,
        checked_rows.loaded_at,
        checked_rows.updated_at,
        reasons.reason,
        checked_rows.quarantine_action,
        checked_rows.is_current_version
    from {{ base_relation }} as checked_rows
    cross join lateral unnest(checked_rows.quarantine_reasons) as reasons (reason)
    where checked_rows.quarantine_action is not null
{%- endmacro %}


{#- Incremental base models (the event tables, which grow with the history): a version's `version_key`
    is its key as one text (nulls as ''), the key that delete+insert replaces. Every version of a key
    ranks together (version_ranks), so a build recomputes whole keys. -#}
{% macro version_key(key_columns, alias=none) -%}
    concat_ws('|', {% for column in key_columns -%}
        coalesce({{ alias ~ '.' if alias }}{{ column }}::text, ''){{ ', ' if not loop.last }}
    {%- endfor %})
{%- endmacro %}


{#- The `where` of an incremental run of a base model (landing alias `landed_rows`; the model calls it
    under `is_incremental()`, which dbt's unit tests override in the model only). It reads every version
    of the keys that batches not yet in the table landed, and of the keys whose stored reference check disagrees with the references now (a station, team or order that
    landed, or stopped being valid, since): `reference_checks` maps a reason to its condition on the
    model's columns, `reference_joins` are the joins the conditions need. So the table holds what a
    full build would (tests/test_dbt_risk_model.py compares them) while a night reads one scan of
    landing and one of the table, and recomputes only the changed keys. -#}
{% macro versions_to_build(landed_relation, key_columns, reference_checks={}, reference_joins=[]) -%}
    where {{ version_key(key_columns, 'landed_rows') }} in (
        select {{ version_key(key_columns) }}
        from {{ landed_relation }}
        where _batch_id in (
            select batch_id from ({{ batch_ids_in(landed_relation, '_batch_id') }}) as landed_batches
            except
            select batch_id from ({{ batch_ids_in(this, 'batch_id') }}) as built_batches
        )
        {%- if reference_checks %}
        union
        select built.version_key
        from {{ this }} as built
        {{ reference_joins | join('\n        ') }}
        where
            {%- for reason, condition in reference_checks.items() %}
            ('{{ reason }}' = any(built.quarantine_reasons)) is distinct from coalesce({{ condition }}, false)
            {{- ' or' if not loop.last }}
            {%- endfor %}
        {%- endif %}
    )
{%- endmacro %}


{#- The batch ids in an indexed column, one index probe per batch (a loose index scan) instead of a pass
    over every row. -#}
{% macro batch_ids_in(relation, column) -%}
    with recursive batch_ids as (
        (select {{ column }} as batch_id from {{ relation }} order by {{ column }} limit 1)
        union all
        select (
            select {{ column }} from {{ relation }}
            where {{ column }} > batch_ids.batch_id
            order by {{ column }} limit 1
        )
        from batch_ids
        where batch_ids.batch_id is not null
    )
    select batch_id from batch_ids where batch_id is not null
{%- endmacro %}


{#- The config of an incremental base model: delete+insert of whole keys (version_key), indexed for the
    replacement and for batch_ids_in. A changed model needs a full refresh, as the risk facts do. -#}
{% macro incremental_base_config() -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'delete+insert',
        'unique_key': 'version_key',
        'on_schema_change': 'fail',
        'indexes': [{'columns': ['version_key']}, {'columns': ['batch_id']}],
    }) }}
{%- endmacro %}
