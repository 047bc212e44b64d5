{#- dbt's generic tests (not_null, accepted_values, relationships, …) read the model
    through `get_where_subquery`. In a BigQuery micro-batch (`--select tag:live`) the
    tests of the models over the large tables read only the rows changed since the last
    complete, passing build (the watermark, macros/build_watermark.sql), by constant
    predicates BigQuery prunes on: raw's day partitions of `updated_at` through the
    staging views, the month partitions of `sale_date` of fct_sales, the line marts and
    the store-day mart (the months of the lines changed since, from raw:
    `changed_line_months`), those of `entry_date` of int_receivables__lines and
    int_receivables__store_days (the months of the entries of the journal lines changed
    since: `changed_receivable_months`). Every
    other row passed the same tests in that build, and the whole job, on its slower
    cadence, tests every row again. DuckDB, the whole job, a first build and
    --full-refresh test every row. -#}
{% macro bigquery__get_where_subquery(relation) -%}
    {% set where = config.get('where', '') %}
    {% set changed = changed_since_last_build(relation) %}
    {% if changed is not none %}
        {% set where = '(' ~ where ~ ') and (' ~ changed ~ ')' if where else changed %}
    {% endif %}
    {% if where %}
        {% do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') %}
    {% endif %}
    {% do return(relation) %}
{%- endmacro %}

{% macro changed_since_last_build(relation) %}
    {% set selected = invocation_args_dict.get('select') or [] %}
    {% if not execute or 'tag:live' not in (selected if selected is not string
                                              else [selected]) %}
        {{ return(none) }}
    {% endif %}
    {% set identifier = relation.identifier | default('', true) | lower %}
    {% set staged = {'stg_sales': 'sales', 'stg_shipments': 'shipments',
                     'stg_journal_entries': 'journal_entries',
                     'stg_journal_lines': 'journal_lines'} %}
    {% if identifier in ('int_receivables__lines', 'int_receivables__store_days') %}
        {% set since = built_through('journal_lines') %}
        {% if since is none %}
            {{ return(none) }}
        {% endif %}
        {% set months = in_months('entry_date', changed_receivable_months(since)) %}
        {{ return(months ~ (' and updated_at > ' ~ since
                            if identifier == 'int_receivables__lines' else '')) }}
    {% endif %}
    {% if identifier in staged %}
        {% set since = built_through(staged[identifier]) %}
        {{ return(none if since is none else 'updated_at > ' ~ since) }}
    {% endif %}
    {% if identifier in ('fct_sales', 'mart_sales_daily_detail', 'mart_dashboard_sales',
                         'mart_dashboard_store_daily') %}
        {% set sales_since = built_through('sales') %}
        {% set shipments_since = built_through('shipments') %}
        {% if sales_since is none or shipments_since is none %}
            {{ return(none) }}
        {% endif %}
        {% set months = changed_line_months({'sale_updated_at': sales_since,
                                             'shipment_updated_at': shipments_since}) %}
        {#- the store-day mart (no line cursors): its rows in those months -#}
        {% if identifier == 'mart_dashboard_store_daily' %}
            {{ return(in_months('sale_date', months)) }}
        {% endif %}
        {{ return(in_months('sale_date', months) ~ ' and (sale_updated_at > ' ~ sales_since
                  ~ ' or shipment_updated_at > ' ~ shipments_since ~ ')') }}
    {% endif %}
    {{ return(none) }}
{% endmacro %}
