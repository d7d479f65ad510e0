{#- Post-hook: fresh planner statistics for a table the next models join (dbt creates tables without
    them, and the planner then picks nested loops over thousands of rows). Views are skipped. -#}
{% macro analyze_table() -%}
    {%- if model.config.materialized in ('table', 'incremental', 'seed') -%}
        analyze {{ this }}
    {%- endif -%}
{%- endmacro %}
