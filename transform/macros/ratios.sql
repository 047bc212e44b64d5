{#- numerator / denominator as a float rounded to `places`, null when the
    denominator is zero or null. -#}
{% macro ratio(numerator, denominator, places=4) -%}
    round(
        case
            when {{ denominator }} is null or {{ denominator }} = 0 then null
            else cast({{ numerator }} as {{ type_double() }})
                / cast({{ denominator }} as {{ type_double() }})
        end,
        {{ places }}
    )
{%- endmacro %}

{#- A double-precision float type (DuckDB `double`, BigQuery `float64`). -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'oaken')()) }}
{%- endmacro %}
{% macro default__type_double() -%}
    double
{%- endmacro %}
{% macro bigquery__type_double() -%}
    float64
{%- endmacro %}
