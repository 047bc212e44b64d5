{#- How far each raw table was covered by the last complete, passing `dbt build`.

    The key tests on the ledger-sized models (`unique_changed`, `relationships_changed`)
    check only the rows that changed since then, against the whole model: at 12.5
    million sales their plain forms scanned 75 million journal lines on every run. The
    rows below the watermark passed the same tests in an earlier build, and raw rows
    only change by dlt's merge, which stamps them with a new `updated_at`.

    The watermark moves (on-run-end) only after a `dbt build` of the whole project in
    which every node succeeded; `--full-refresh`, a first build, and `dbt compile
    --no-introspect` (the offline BigQuery check) test every row. -#}

{% macro watermark_relation() %}
    {{ return(api.Relation.create(database=target.database, schema=target.schema,
                                  identifier='oaken_build_watermark')) }}
{% endmacro %}

{#- A SQL timestamp literal for `source_table`'s watermark, or none: test every row. -#}
{% macro built_through(source_table) %}
    {% if not execute or flags.FULL_REFRESH
          or invocation_args_dict.get('introspect') in (false, 'False', 'false') %}
        {{ return(none) }}
    {% endif %}
    {% set relation = adapter.get_relation(database=target.database, schema=target.schema,
                                           identifier='oaken_build_watermark') %}
    {% if relation is none %}
        {{ return(none) }}
    {% endif %}
    {% set found = run_query("select max(built_through) from " ~ relation
                             ~ " where source_table = '" ~ source_table ~ "'") %}
    {% set value = found.columns[0].values()[0] %}
    {% if value is none %}
        {{ return(none) }}
    {% endif %}
    {{ return("cast('" ~ value ~ "' as " ~ dbt.type_timestamp() ~ ")") }}
{% endmacro %}

{#- on-run-end: after a complete, passing build, record each raw table's newest row. -#}
{% macro advance_watermark(results) %}
    {% if not execute or flags.WHICH != 'build' %}
        {{ return('') }}
    {% endif %}
    {% set selected = invocation_args_dict.get('select') or [] %}
    {% if selected | reject('equalto', 'fqn:*') | list | length > 0 %}
        {{ return('') }}
    {% endif %}
    {% for result in results %}
        {% if result.status not in ('success', 'pass') %}
            {{ return('') }}
        {% endif %}
    {% endfor %}
    {% set relation = watermark_relation() %}
    {% do run_query("create table if not exists " ~ relation ~ " (source_table "
                    ~ dbt.type_string() ~ ", built_through " ~ dbt.type_timestamp() ~ ")") %}
    {% do run_query("delete from " ~ relation ~ " where true") %}
    {% set newest = [] %}
    {% for table in var('watermarked_tables') %}
        {% set raw = api.Relation.create(database=target.database,
                                         schema=var('raw_schema', 'raw'), identifier=table) %}
        {#- the cast: dlt loads the naive `updated_at` as DATETIME on BigQuery, which
            BigQuery does not assign to a TIMESTAMP column without one -#}
        {#- less the cursor lag: a row that reaches raw late, stamped before the
            newest one, is still tested by the next build (macros/incremental_marts.sql) -#}
        {% do newest.append("select '" ~ table ~ "', "
                            ~ lagged("cast(max(updated_at) as " ~ dbt.type_timestamp() ~ ")")
                            ~ " from " ~ raw) %}
    {% endfor %}
    {% do run_query("insert into " ~ relation ~ " " ~ newest | join(" union all ")) %}
    {{ return('') }}
{% endmacro %}
