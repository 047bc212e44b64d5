{#- numerator / denominator as a float rounded to `places`, null when the
    denominator is zero or null. -#}
{% macro ratio(numerator, denominator, places=4) -%}
    round(
        case
            when {{ denominator }} is null or {{ denominator }} = 0 then null
            else cast({{ numerator }} as {{ dbt.type_float() }})
                / cast({{ denominator }} as {{ dbt.type_float() }})
        end,
        {{ places }}
    )
{%- endmacro %}
