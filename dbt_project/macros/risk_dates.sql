{#- The risk days a run computes, as a one-row query: date_from, date_to and, for
    int_station_indicator_daily, the landing bookkeeping that every row of its build records.

    date_to:   var risk_date_to (Airflow: the day that just ended), never later than the last day
               that the extraction has landed completely (the lowest watermark minus one day).
    date_from: for an incremental run, the earliest of
               - var risk_date_from, else `risk_lookback_days` before the first day not yet built (or
                 before date_to, when re-running an earlier day);
               - the first day the data changed on: for int_station_indicator_daily, the first day that
                 the versions landed since its last build can change (landed_versions_touch_from); for a
                 mart (`follows` that model), the first day that model rebuilt since the mart's last build;
               for a first run or a full refresh, the first day with data (or var risk_date_from).
               Never earlier than the first day with data.
    So late and out-of-order versions recompute their days and the history equals a full refresh's.
    first_data_day: the first day with orders, where a full refresh starts: day 1 of the history (the
    marts' warm-up days count from it).

    Landing bookkeeping (int_station_indicator_daily's rows): one table's batches land one after the
    other with rising high waters, and an extraction round gives every table the same one. So when the
    lowest watermark is H, every batch with a high water up to H has landed and no other will:
    landed_high_water. (Batch ids would not do: a round's tables land in parallel, a lower id may commit
    after a higher one.) The facts tables a build reads (int_work_order_facts...) were built a little
    before it and may miss a batch landed in between, but after the previous build ran: every batch up to
    the previous build's landed_high_water is reflected in the rows, that is built_from_high_water, and
    the next build looks at the versions of the batches after it (so a late version is looked at by two
    builds). A first run or a full refresh cannot tell which batches its facts reflect (null): the next
    incremental run recomputes every day. A run that stops before the last day built (re-running an
    earlier day) keeps built_from_high_water. built_at tells the builds apart; a mart records in its table
    comment the latest built_at of the model it follows when it was built (record_followed_build). -#}
{% macro risk_date_range(follows=none) -%}
    {#- Resolved when parsing too, so that dbt knows what an incremental run reads (not for other runs:
        unit tests would need every one as an input). -#}
    {%- if is_incremental() or not execute -%}
        {%- set relations = ref(follows) if follows else landed_versions_relations() -%}
    {%- endif -%}
    {%- set build = previous_build(relations, follows) if is_incremental() else none -%}
    with

    landed as (
        select
            (select min(accept_date) from {{ ref('int_work_order_facts') }}) as first_data_day,
            (
                -- Nothing is complete while a landing table has never been extracted (the same rule as
                -- service_risk.landing_state, which the mart gate applies).
                select case when count(*) >= {{ landing_source_count() }} then min(high_water) end
                from {{ source('ops', 'extract_watermark') }}
            ) as landed_high_water
    ),

    requested as (
        select
            first_data_day,
            landed_high_water,
            least(
                {{ optional_date_var('risk_date_to') }}, (landed_high_water - interval '1 day')::date
            ) as date_to
        from landed
    )

    select
        greatest(
            first_data_day,
            least(
                coalesce(
                    {{ optional_date_var('risk_date_from') }},
                    {% if build -%}
                    least({{ build.last_day }} + 1, requested.date_to) - {{ var('risk_lookback_days') }},
                    {%- endif %}
                    first_data_day
                ),
                {{ build.touched_from if build else 'null::date' }}
            )
        ) as date_from,
        date_to,
        first_data_day,
        {% if build and not follows -%}
        case
            when requested.date_to < {{ build.last_day }} then {{ build.built_from_high_water }}
            else {{ build.landed_high_water }}
        end
        {%- else -%}
        null::timestamp
        {%- endif %} as built_from_high_water,
        landed_high_water,
        now() as built_at
    from requested
{%- endmacro %}


{#- What the last build of this incremental model recorded, and the first day the data changed on since
    (SQL literals). `relations`: the relation a mart follows, or those landed_versions_touch_from reads.
    Runs queries, so only when executing. -#}
{% macro previous_build(relations, follows) -%}
    {%- if not execute -%}
        {{ return({'last_day': 'null::date', 'built_from_high_water': 'null::timestamp',
                   'landed_high_water': 'null::timestamp', 'touched_from': 'null::date'}) }}
    {%- endif -%}
    {%- if follows -%}
        {%- set row = run_query(
            "select obj_description('" ~ this ~ "'::regclass, 'pg_class'), null, max(risk_date)::text from " ~ this
        ).rows[0] -%}
        {%- set recorded = modules.re.search(' as built at (.+)$', row[0] or '') -%}
        {%- set built_from = recorded.group(1) if recorded -%}
        {%- set query = 'select min(risk_date)::text from ' ~ relations ~ " where built_at > '" ~ built_from ~ "'" -%}
        {%- set what = follows ~ ' rows built after ' -%}
    {%- else -%}
        {#- A table built before this bookkeeping existed gets the columns (on_schema_change) and, like a
            full refresh, cannot tell which batches it reflects. -#}
        {%- set has_bookkeeping = 'built_from_high_water' in (
            adapter.get_columns_in_relation(this) | map(attribute='name') | list) -%}
        {%- set row = run_query(
            'select ' ~ ('max(built_from_high_water)::text, max(landed_high_water)::text' if has_bookkeeping
                         else 'null, null') ~ ', max(risk_date)::text from ' ~ this
        ).rows[0] -%}
        {%- set built_from = row[0] -%}
        {%- set query = landed_versions_touch_from(relations, built_from) if built_from -%}
        {%- set what = 'versions landed after ' -%}
    {%- endif -%}
    {%- set touched_from = run_query(query).rows[0][0] if built_from else '-infinity' -%}
    {{ log(this.identifier ~ ': ' ~ what ~ (built_from or 'the full build') ~ ' change risk days from '
           ~ (touched_from or 'none'), info=true) }}
    {{ return({
        'last_day': ("'" ~ row[2] ~ "'::date") if row[2] else 'null::date',
        'built_from_high_water': ("'" ~ built_from ~ "'::timestamp") if built_from else 'null::timestamp',
        'landed_high_water': ("'" ~ row[1] ~ "'::timestamp") if row[1] else 'null::timestamp',
        'touched_from': ("'" ~ touched_from ~ "'::date") if touched_from else 'null::date',
    }) }}
{%- endmacro %}


{#- Post-hook of a model built with risk_date_range(follows=...): its table comment records the latest
    built_at of the model it follows (the next build recomputes the days rebuilt after it; without it,
    every day). In the model's transaction, so it commits with the rows. -#}
{% macro record_followed_build(follows) -%}
    do $record$ begin
        execute format(
            'comment on table {{ this }} is %L',
            'Incremental (macros/risk_dates.sql): follows {{ follows }} as built at '
            || (select max(built_at)::text from {{ ref(follows) }})
        );
    end $record$
{%- endmacro %}


{#- The relations landed_versions_touch_from reads. -#}
{% macro landed_versions_relations() -%}
    {{ return({
        'extract_batch': source('ops', 'extract_batch'),
        'work_order': source('appeals', 'work_order'),
        'work_order_versions': ref('base_appeals__work_orders'),
        'callback_survey': source('appeals', 'callback_survey'),
        'repair_task': source('command', 'repair_task'),
        'outage_event': source('command', 'outage_event'),
        'org_unit': source('marketing', 'org_unit'),
        'org_unit_versions': ref('base_marketing__org_units'),
        'transformer_area': source('marketing', 'transformer_area'),
        'transformer_area_versions': ref('base_marketing__transformer_areas'),
    }) }}
{%- endmacro %}


{#- A query for the first risk day (text; '-infinity': every day; null: none) that the versions of the
    batches with a high water after `after_high_water` can change, comparing each changed key's version
    at the last build (the latest of a batch up to after_high_water) with its version now; a dropped
    (quarantined) version is no row. Call records feed no indicator.

    - work order: when both versions are valid and agree on what places the order (station, type,
      channel, category, complaint level, appellant, cancelled or not, accept time), the dates of the
      times that changed: deadline (C2), reply (C2: a reply can only matter on or before the deadline),
      finish and return count (B3); so an order moving on (replied, finished) does not reach back to its
      acceptance. Otherwise every date of both versions (what is dated from the order is on or after its
      acceptance: later repeats, the arrival deadline, overrides, surveys (taken after it)).
    - survey, repair task, outage: the date that places them, of every version of the key (survey time;
      arrival time, as a repair task only matters through an arrival on or before its order's arrival
      deadline; outage start). Raw landed versions: times before var source_min_timestamp are
      quarantined and ignored.
    - org unit, transformer area (master data, not historised): any change of a valid version means every
      day. Customers, teams, staff and unit contacts feed no risk day.
    Keys of changed orders are inlined, so that the version ranking of the base model reads only their
    rows (up to 20000 keys; beyond, a semi-join reads every version). -#}
{% macro landed_versions_touch_from(relations, after_high_water) -%}
    {%- set after = "'" ~ after_high_water ~ "'::timestamp" -%}
    {%- set new_batches = 'array(select batch_id from ' ~ relations.extract_batch ~ ' where high_water > ' ~ after ~ ')' -%}
    {%- set changed_orders = 'select order_no from ' ~ relations.work_order ~ ' where _batch_id = any(' ~ new_batches ~ ')' -%}
    {%- set keys = run_query('select distinct order_no::text from (' ~ changed_orders ~ ') as changed limit 20001')
        .columns[0].values() -%}
    {%- if keys | length <= 20000 -%}
        {%- set quoted = [] -%}
        {%- for key in keys -%}
            {%- do quoted.append("'" ~ (key | replace("'", "''")) ~ "'") -%}
        {%- endfor -%}
        {%- set order_filter = ('order_no = any(array[' ~ quoted | join(', ') ~ ']::text [])') if quoted else 'false' -%}
    {%- else -%}
        {%- set order_filter = 'order_no in (' ~ changed_orders ~ ')' -%}
    {%- endif %}
    with

    order_versions as (
        select
            order_no,
            batch_id,
            batch_high_water,
            updated_at,
            quarantine_action is distinct from 'dropped' as is_valid,
            station_code,
            order_type,
            channel,
            category,
            complaint_level,
            customer_no,
            caller_phone_hash,
            order_status = 'cancelled' as is_cancelled,
            accept_time,
            deadline_time,
            reply_time,
            finish_time,
            return_count
        from {{ relations.work_order_versions }}
        where {{ order_filter }}
    ),

    orders_before as (
        select distinct on (order_no) *
        from order_versions
        where batch_high_water <= {{ after }}
        order by order_no, updated_at desc, batch_id desc
    ),

    orders_now as (
        select distinct on (order_no) *
        from order_versions
        order by order_no, updated_at desc, batch_id desc
    ),

    order_changes as (
        select
            case
                when
                    orders_before.is_valid and orders_now.is_valid
                    and (
                        orders_before.station_code, orders_before.order_type, orders_before.channel,
                        orders_before.category, orders_before.complaint_level, orders_before.customer_no,
                        orders_before.caller_phone_hash, orders_before.is_cancelled, orders_before.accept_time
                    ) is not distinct from (
                        orders_now.station_code, orders_now.order_type, orders_now.channel,
                        orders_now.category, orders_now.complaint_level, orders_now.customer_no,
                        orders_now.caller_phone_hash, orders_now.is_cancelled, orders_now.accept_time
                    )
                    then least(
                        case
                            when orders_before.deadline_time is distinct from orders_now.deadline_time
                                then least(orders_before.deadline_time, orders_now.deadline_time)
                        end,
                        case
                            when orders_before.reply_time is distinct from orders_now.reply_time
                                then least(orders_before.reply_time, orders_now.reply_time)
                        end,
                        case
                            when
                                (orders_before.finish_time, orders_before.return_count)
                                is distinct from (orders_now.finish_time, orders_now.return_count)
                                then least(orders_before.finish_time, orders_now.finish_time)
                        end
                    )
                else least(
                    case
                        when orders_before.is_valid
                            then least(
                                orders_before.accept_time, orders_before.deadline_time,
                                orders_before.reply_time, orders_before.finish_time
                            )
                    end,
                    case
                        when orders_now.is_valid
                            then least(
                                orders_now.accept_time, orders_now.deadline_time,
                                orders_now.reply_time, orders_now.finish_time
                            )
                    end
                )
            end as touched_at
        from orders_now
        left join orders_before on orders_now.order_no = orders_before.order_no
    ),

    dated_changes as (
        select min(touched_at) as touched_at from order_changes
        {%- for table, key, time in [
            ('callback_survey', 'survey_id', 'survey_time'),
            ('repair_task', 'task_id', 'arrive_time'),
            ('outage_event', 'outage_id', 'start_time'),
        ] %}
        union all
        select min({{ time }}::timestamp) as touched_at
        from {{ relations[table] }}
        where
            {{ key }} in (select {{ key }} from {{ relations[table] }} where _batch_id = any({{ new_batches }}))
            and {{ time }}::timestamp >= '{{ var("source_min_timestamp") }}'::timestamp
        {%- endfor %}
    ),

    -- Master data: a key's content at the last build and now (null: dropped or not landed).
    master_changes as (
        {%- for table, key in [('org_unit', 'org_code'), ('transformer_area', 'ta_code')] %}
        {{ 'union all' if not loop.first }}
        select
            (array_agg(content order by updated_at desc, batch_id desc)
                filter (where batch_high_water <= {{ after }}))[1]
            is distinct from (array_agg(content order by updated_at desc, batch_id desc))[1] as has_changed
        from (
            select
                {{ key }},
                updated_at,
                batch_id,
                batch_high_water,
                case when quarantine_action is distinct from 'dropped' then {{ master_content() }} end as content
            from {{ relations[table ~ '_versions'] }} as versions
            where {{ key }} in (select {{ key }} from {{ relations[table] }} where _batch_id = any({{ new_batches }}))
        ) as changed_versions
        group by {{ key }}
        {%- endfor %}
    )

    select
        case
            when (select bool_or(has_changed) from master_changes) then '-infinity'
            else (select min(touched_at) from dated_changes)::date::text
        end as touched_from
{%- endmacro %}


{#- A master-data version's content: every column of the base model but its bookkeeping. -#}
{% macro master_content() -%}
    to_jsonb(versions) - array[
        'updated_at', 'batch_id', 'loaded_at', 'batch_high_water', 'version_in_batch', 'is_current_version',
        'quarantine_reasons', 'quarantine_action'
    ]
{%- endmacro %}


{#- A YYYY-MM-DD var as a date literal, or a null date when the var is empty. -#}
{% macro optional_date_var(name) -%}
    {%- set value = var(name) -%}
    {%- if value -%}
        {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', value | string) -%}
            {{ exceptions.raise_compiler_error("var " ~ name ~ " must be YYYY-MM-DD, got " ~ value) }}
        {%- endif -%}
        '{{ value }}'::date
    {%- else -%}
        null::date
    {%- endif -%}
{%- endmacro %}


{#- How many landing tables the sources declare (0 while parsing and in unit tests, whose graph has no
    sources: their given watermarks stand for complete landing). -#}
{% macro landing_source_count() -%}
    {{ graph.get('sources', {}).values() | selectattr('schema', 'equalto', 'landing') | list | length
       if execute else 0 }}
{%- endmacro %}
