{#- The ten indicators as published columns (a1_value ... c3_score). The catalogue seed holds their
    definitions; the column list of the wide fact is part of its contract, so it is fixed here. -#}
{% macro indicator_codes() -%}
    {{ return(['A1', 'A2', 'A3', 'A4', 'B1', 'B2', 'B3', 'C1', 'C2', 'C3']) }}
{%- endmacro %}
