{#- The incremental cursor of the models at sale-line grain (fct_sales and the marts
    built from it): the newest sale and shipment `updated_at` the model already holds
    (1900-01-01 while it holds none), less the cursor lag (`lagged`), as a one-row
    relation to cross join. -#}
{% macro built_line_cursors(relation) -%}
    select
        {{ lagged("coalesce(max(sale_updated_at), cast('1900-01-01' as "
                  ~ dbt.type_timestamp() ~ "))") }} as sale_updated_at,
        {{ lagged("coalesce(max(shipment_updated_at), cast('1900-01-01' as "
                  ~ dbt.type_timestamp() ~ "))") }} as shipment_updated_at
    from {{ relation }}
{%- endmacro %}

{#- A cursor stepped back by `oaken_cursor_lag_seconds` (OAKEN_ANALYTICS_CURSOR_LAG_SECONDS).
    Workers stamp `updated_at` before they commit, so a row can reach `raw` after a
    later-stamped one was built; every incremental model and the build watermark look
    that far back again (rebuilding a line twice is harmless: delete+insert/merge on
    its key), the same window extract re-reads. -#}
{% macro lagged(timestamp_sql) -%}
    {%- set lag = var('oaken_cursor_lag_seconds', env_var('OAKEN_CURSOR_LAG_SECONDS', '0'))
                  | int -%}
    {%- if lag > 0 and target.type == 'bigquery' -%}
        timestamp_sub({{ timestamp_sql }}, interval {{ lag }} second)
    {%- elif lag > 0 -%}
        {{ dbt.dateadd('second', -lag, timestamp_sql) }}
    {%- else -%}
        {{ timestamp_sql }}
    {%- endif -%}
{%- endmacro %}

{#- True for the rows of `lines` (fct_sales or a model of its columns) whose sale or
    shipment changed after the cursors in `built` (built_line_cursors above). -#}
{% macro line_changed_since(lines, built) -%}
    ({{ lines }}.sale_updated_at > {{ built }}.sale_updated_at
        or {{ lines }}.shipment_updated_at > {{ built }}.shipment_updated_at)
{%- endmacro %}

{#- The keys of `dimension` whose `columns` no longer match what `built` (a model that
    denormalises them) was built with: a renamed store, item, category or vendor. A key
    missing from the dimension counts as changed when `built` holds names for it. -#}
{% macro keys_renamed_since(built, dimension, key, columns) -%}
    select built_rows.{{ key }}
    from (select distinct {{ key }}, {{ columns | join(', ') }} from {{ built }}) as built_rows
    left join {{ dimension }} as current_rows
        on built_rows.{{ key }} = current_rows.{{ key }}
    where
    {%- for column in columns %}
        {{ 'or ' if not loop.first }}current_rows.{{ column }} is distinct from built_rows.{{ column }}
    {%- endfor %}
{%- endmacro %}

{#- BigQuery: the cursors of `cursors_sql` (a one-row select of TIMESTAMP columns, e.g.
    built_line_cursors above; or, with `relation` and `columns`, the stored cursors of
    `relation` when it has them) computed before the model's query and returned as TIMESTAMP
    literals by column name, so the model filters `raw` on constants and BigQuery prunes
    its `updated_at` day partitions (it prunes on constant expressions only). Same values,
    lag included, as the subquery form. None elsewhere (DuckDB keeps the subquery), at
    parse time, and in `dbt compile --no-introspect` (the offline check). -#}
{% macro constant_cursors(cursors_sql, relation=none, columns=none) %}
    {% if not execute or target.type != 'bigquery'
          or invocation_args_dict.get('introspect') in (false, 'False', 'false') %}
        {{ return(none) }}
    {% endif %}
    {#- the values max() would give, kept in oaken_model_cursors (macros/model_cursors.sql)
        for the models at sale-line grain, so the lookup reads no column of the model -#}
    {% if relation is not none %}
        {% set stored = stored_cursors(relation, columns) %}
        {% if stored is not none %}
            {{ return(cursor_literals(stored)) }}
        {% endif %}
    {% endif %}
    {% set found = run_query(cursors_sql) %}
    {% set literals = {} %}
    {% for column in found.columns %}
        {% do literals.update({column.name | lower: timestamp_literal(column.values()[0])}) %}
    {% endfor %}
    {{ return(literals) }}
{% endmacro %}

{#- A TIMESTAMP literal of `value` (a datetime from run_query, UTC when naive), to the
    microsecond; null stays null. -#}
{% macro timestamp_literal(value) %}
    {% if value is none %}
        {{ return("cast(null as " ~ dbt.type_timestamp() ~ ")") }}
    {% endif %}
    {% if value.tzinfo is not none %}
        {% set value = value.astimezone(modules.pytz.utc).replace(tzinfo=none) %}
    {% endif %}
    {{ return("timestamp '" ~ value.strftime('%Y-%m-%d %H:%M:%S.%f') ~ " UTC'") }}
{% endmacro %}
