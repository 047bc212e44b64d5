{#- Calendar helpers that differ between DuckDB and BigQuery. -#}

{% macro iso_day_of_week(date_expression) -%}
    {{ return(adapter.dispatch('iso_day_of_week', 'oaken')(date_expression)) }}
{%- endmacro %}
{% macro default__iso_day_of_week(date_expression) -%}
    cast(isodow({{ date_expression }}) as integer)
{%- endmacro %}
{% macro bigquery__iso_day_of_week(date_expression) -%}
    mod(extract(dayofweek from {{ date_expression }}) + 5, 7) + 1
{%- endmacro %}

{% macro day_name(date_expression) -%}
    {{ return(adapter.dispatch('day_name', 'oaken')(date_expression)) }}
{%- endmacro %}
{% macro default__day_name(date_expression) -%}
    dayname({{ date_expression }})
{%- endmacro %}
{% macro bigquery__day_name(date_expression) -%}
    format_date('%A', {{ date_expression }})
{%- endmacro %}

{% macro month_name(date_expression) -%}
    {{ return(adapter.dispatch('month_name', 'oaken')(date_expression)) }}
{%- endmacro %}
{% macro default__month_name(date_expression) -%}
    monthname({{ date_expression }})
{%- endmacro %}
{% macro bigquery__month_name(date_expression) -%}
    format_date('%B', {{ date_expression }})
{%- endmacro %}

{#- The first day of the period (month, week, quarter, year) as a DATE. -#}
{% macro period_start(period, date_expression) -%}
    cast({{ dbt.date_trunc(period, date_expression) }} as date)
{%- endmacro %}

{#- One row per day, column `date_day`, between two scalar date expressions
    (inclusive); each may be a scalar subquery. -#}
{% macro date_spine_between(start_expression, end_expression) -%}
    {{ return(adapter.dispatch('date_spine_between', 'oaken')(start_expression, end_expression)) }}
{%- endmacro %}
{% macro default__date_spine_between(start_expression, end_expression) -%}
    select cast(unnest(generate_series(
        cast(({{ start_expression }}) as timestamp),
        cast(({{ end_expression }}) as timestamp),
        interval 1 day
    )) as date) as date_day
{%- endmacro %}
{% macro bigquery__date_spine_between(start_expression, end_expression) -%}
    select date_day
    from unnest(generate_date_array(({{ start_expression }}), ({{ end_expression }}))) as date_day
{%- endmacro %}
