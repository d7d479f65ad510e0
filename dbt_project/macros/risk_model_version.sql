{#- The selected risk-model version (var `risk_model_version`) as a SQL literal. -#}
{% macro selected_model_version() -%}
    '{{ var("risk_model_version") }}'
{%- endmacro %}
