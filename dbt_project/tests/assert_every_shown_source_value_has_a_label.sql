-- Every value of the enumerations the dashboards show (var source_enumerations) has a Chinese name.
{%- set shown = ['area_type', 'order_type', 'channel', 'category', 'complaint_level', 'order_status'] %}
with

expected (enumeration, value) as (
    values
    {%- for enumeration in shown %}
        {%- set outer_last = loop.last %}
        {%- for value in var('source_enumerations')[enumeration] %}
        ('{{ enumeration }}', '{{ value }}'){{ '' if outer_last and loop.last else ',' }}
        {%- endfor %}
    {%- endfor %}
)

select expected.enumeration, expected.value
from expected
left join {{ ref('stg_risk_model__source_value_labels') }} as labels
    on expected.enumeration = labels.enumeration and expected.value = labels.value
where labels.name_zh is null
