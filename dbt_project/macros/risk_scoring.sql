{#- The risk model's arithmetic (risk-model.md "Small denominators", "Score and code"), one place each. -#}

{#- Indicator value x of a unit.
    per_10k: numerator per 10,000 customers (0 for a unit without customers).
    shrunk rate: (k + m*p) / (n + m), pulled toward the province rate p of the same day and window;
    a unit with n = 0 gets p. Unshrunk rate: k / n, p when n = 0. -#}
{% macro indicator_value(measure_kind, is_shrunk, numerator, denominator, province_rate, prior_weight) -%}
    case
        when {{ measure_kind }} = 'per_10k'
            then coalesce({{ numerator }} * 10000 / nullif({{ denominator }}, 0), 0)
        when {{ is_shrunk }}
            then coalesce(
                ({{ numerator }} + {{ prior_weight }} * {{ province_rate }})
                / nullif({{ denominator }} + {{ prior_weight }}, 0),
                {{ province_rate }}
            )
        else coalesce({{ numerator }} / nullif({{ denominator }}, 0), {{ province_rate }})
    end
{%- endmacro %}


{#- Province rate p = sum k / sum n over all stations; 0 when no station had a denominator. -#}
{% macro province_rate(numerator_sum, denominator_sum) -%}
    coalesce({{ numerator_sum }} / nullif({{ denominator_sum }}, 0), 0)
{%- endmacro %}


{#- Indicator score s = 100 * clip(x / U, 0, 1): 100 at and beyond the upper limit U. -#}
{% macro indicator_score(value, upper_limit) -%}
    100 * least(greatest({{ value }} / {{ upper_limit }}, 0), 1)
{%- endmacro %}
