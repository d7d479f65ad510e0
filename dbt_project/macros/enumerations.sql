{#- The values of a source enumeration (var `source_enumerations`), as a SQL list. -#}
{% macro enum_values_sql(domain) -%}
    {%- set values = var('source_enumerations')[domain] -%}
    {%- for value in values %}'{{ value }}'{{ ", " if not loop.last }}{% endfor -%}
{%- endmacro %}
