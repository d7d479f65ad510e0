{#- The validated days a publication copies (vars publish_date_from / publish_date_to, set by
    service_risk.quality.publication after the mart gate passed), as a where clause on risk_date.
    A first build or a full refresh of a published table copies every day up to publish_date_to.
    `column`: the day a row belongs to (a weekly row: its week's last day). -#}
{% macro published_days(column='risk_date') -%}
    {%- set date_from = var('publish_date_from', '') -%}
    {%- set date_to = var('publish_date_to', '') -%}
    {%- if execute and not date_to -%}
        {{ exceptions.raise_compiler_error(
            "published models are built only by a publication (vars publish_date_from, publish_date_to): "
            ~ "`service-risk publish`, or the daily_risk DAG after its gate"
        ) }}
    {%- endif -%}
    {%- if is_incremental() -%}
        {{ column }} between '{{ date_from }}'::date and '{{ date_to }}'::date
    {%- else -%}
        {{ column }} <= '{{ date_to }}'::date
    {%- endif -%}
{%- endmacro %}

{#- pre-hook of the published models: an incremental one first drops every day of the publication's
    range, so a day that has no rows any more (a sheet that moved to another day in a recomputation)
    keeps none of its old ones; delete+insert alone replaces only the days present in the new rows. -#}
{% macro delete_published_days() -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where risk_date between '{{ var("publish_date_from") }}'::date and '{{ var("publish_date_to") }}'::date
    {%- endif -%}
{%- endmacro %}
