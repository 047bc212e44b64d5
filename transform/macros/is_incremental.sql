{#- dbt's is_incremental(), except that `dbt compile --no-introspect` (used to check
    the BigQuery target offline) renders the full-build form instead of asking the
    warehouse whether the table exists. -#}
{% macro is_incremental() %}
    {% if invocation_args_dict.get('introspect') in (false, 'False', 'false') %}
        {{ return(false) }}
    {% endif %}
    {{ return(dbt.is_incremental()) }}
{% endmacro %}
