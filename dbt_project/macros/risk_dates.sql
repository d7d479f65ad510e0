{#- The risk days an incremental run computes, as a one-row query (date_from, date_to).

    date_to:   var risk_date_to (Airflow: the day that just ended), never later than the last day
               that the extraction has landed completely (the lowest watermark minus one day).
    date_from: var risk_date_from when given; else, for an incremental run, `risk_lookback_days`
               before the first day not yet built (or before date_to, when re-running an earlier day),
               so late updates reach the recent days; else (first run, full refresh) the first day with
               data. Never earlier than the first day with data. -#}
{% macro risk_date_range() -%}
    with

    landed as (
        select
            (select min(accept_date) from {{ ref('int_work_order_facts') }}) as first_data_day,
            (select (min(high_water) - interval '1 day')::date from {{ source('ops', 'extract_watermark') }})
                as last_complete_day
    ),

    requested as (
        select
            first_data_day,
            least(
                {{ optional_date_var('risk_date_to') }}, last_complete_day
            ) as date_to
        from landed
    )

    select
        greatest(
            first_data_day,
            coalesce(
                {{ optional_date_var('risk_date_from') }},
                {% if is_incremental() -%}
                (select least(max(risk_date) + 1, requested.date_to) - {{ var('risk_lookback_days') }} from {{ this }}),
                {%- endif %}
                first_data_day
            )
        ) as date_from,
        date_to
    from requested
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
