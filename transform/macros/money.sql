{#- Money as an exact two-place decimal, rounded half-up from whatever the raw layer
    holds (DECIMAL from MariaDB/PostgreSQL, a float-backed value from SQLite). -#}
{% macro money(expression, precision=12) -%}
    {{ return(adapter.dispatch('money', 'oaken')(expression, precision)) }}
{%- endmacro %}

{% macro default__money(expression, precision) -%}
    cast(round(cast({{ expression }} as decimal(18, 4)), 2) as decimal({{ precision }}, 2))
{%- endmacro %}

{% macro bigquery__money(expression, precision) -%}
    round(cast({{ expression }} as numeric), 2)
{%- endmacro %}
