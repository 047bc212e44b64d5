{#- BigQuery: the incremental cursors kept in a small table instead of max() over the model.

    `max(sale_updated_at)` over fct_sales (and the marts at its grain) reads two whole
    columns of the model on every micro-batch: BigQuery bills what a query reads, and a
    max() over a column prunes no partition. `oaken_model_cursors` (beside the marts:
    model relation, cursor column, newest value the model holds, not lagged) keeps the
    same value, maintained by the model's own hooks:

    - pre-hook `forget_cursors`: a first build or a full refresh deletes the model's
      rows (the model is about to be rebuilt whole);
    - post-hook `record_cursors`, after the model was built: with no row (first build,
      full refresh, a model built before this table existed) the max over the whole
      model, once; otherwise the stored value raised to the max over the months the run
      can have merged (`changed_line_months`, constants: the read is pruned). A line's
      month never changes (merge_touched_partitions.sql), so these hold every merged
      row, and the stored value is exactly max() over the model again.
      int_receivables__lines (month partitions of entry_date, cursor `updated_at`) does
      the same with the months of `changed_receivable_months`.

    The value can only lag behind max(), never pass it: a build that fails before its
    post-hook leaves the old value (the next run re-merges those lines, harmlessly: merge
    on the key), and a missing row falls back to max(). DuckDB keeps its max()
    subqueries (nothing to prune); every macro here is a no-op there. -#}

{% macro cursors_relation() %}
    {{ return(api.Relation.create(database=target.database, schema=target.schema,
                                  identifier='oaken_model_cursors')) }}
{% endmacro %}

{#- oaken_model_cursors, created if missing (`if not exists`: the relation cache of a
    run does not list a table a hook of the same run created) -#}
{% macro ensure_cursors_table() %}
    {% set table = cursors_relation() %}
    {% if adapter.get_relation(database=table.database, schema=table.schema,
                               identifier=table.identifier) is none %}
        {% do run_query("create table if not exists " ~ table ~ " (model_relation "
                        ~ dbt.type_string() ~ ", cursor_column " ~ dbt.type_string()
                        ~ ", newest " ~ dbt.type_timestamp() ~ ")") %}
    {% endif %}
    {{ return(table) }}
{% endmacro %}

{#- A model's row key in oaken_model_cursors: `dataset.table` -#}
{% macro cursor_key(relation) %}
    {{ return(relation.schema ~ '.' ~ relation.identifier) }}
{% endmacro %}

{#- The stored cursors of `relation` by column (datetimes, none where the model holds no
    value), or none: no table, or a column without a row (then use max()). -#}
{% macro stored_cursors(relation, columns) %}
    {% if not execute or target.type != 'bigquery' %}
        {{ return(none) }}
    {% endif %}
    {% set table = adapter.get_relation(database=target.database, schema=target.schema,
                                        identifier='oaken_model_cursors') %}
    {% if table is none %}
        {{ return(none) }}
    {% endif %}
    {{ return(read_cursors(table, relation, columns)) }}
{% endmacro %}

{#- stored_cursors from `table`, known to exist (the relation cache of a run does not
    hold a table a hook of the same run created) -#}
{% macro read_cursors(table, relation, columns) %}
    {% set found = run_query("select cursor_column, newest from " ~ table
                             ~ " where model_relation = '" ~ cursor_key(relation) ~ "'") %}
    {% set found_by_column = {} %}
    {% for row in found.rows %}
        {% do found_by_column.update({row[0]: row[1]}) %}
    {% endfor %}
    {% set stored = {} %}
    {% for column in columns %}
        {% if column not in found_by_column %}
            {{ return(none) }}
        {% endif %}
        {% do stored.update({column: found_by_column[column]}) %}
    {% endfor %}
    {{ return(stored) }}
{% endmacro %}

{% macro forget_cursors() %}
    {% if not execute or target.type != 'bigquery' or is_incremental() %}
        {{ return('') }}
    {% endif %}
    {% set table = adapter.get_relation(database=target.database, schema=target.schema,
                                        identifier='oaken_model_cursors') %}
    {% if table is not none %}
        {% do run_query("delete from " ~ table ~ " where model_relation = '"
                        ~ cursor_key(this) ~ "'") %}
    {% endif %}
    {{ return('') }}
{% endmacro %}

{#- post-hook of the models at sale-line grain (month partitions of sale_date) and, with
    `partition_column` 'entry_date', of int_receivables__lines (month partitions of
    entry_date: the months come from `changed_receivable_months`) -#}
{% macro record_cursors(columns, partition_column='sale_date') %}
    {% if not execute or target.type != 'bigquery' %}
        {{ return('') }}
    {% endif %}
    {% set table = ensure_cursors_table() %}
    {% set stored = stored_cursors(this, columns) %}
    {% set maxima = [] %}
    {% for column in columns %}
        {% do maxima.append('max(' ~ column ~ ') as ' ~ column) %}
    {% endfor %}
    {% if stored is none %}
        {% set found = run_query('select ' ~ maxima | join(', ') ~ ' from ' ~ this) %}
        {% set newest = {} %}
        {% for column in columns %}
            {% do newest.update({column: found.columns[loop.index0].values()[0]}) %}
        {% endfor %}
    {% else %}
        {% if partition_column == 'entry_date' %}
            {% set months = changed_receivable_months(cursor_literals(stored).updated_at) %}
        {% else %}
            {% set months = changed_line_months(cursor_literals(stored)) %}
        {% endif %}
        {% set newest = {} %}
        {% do newest.update(stored) %}
        {% if months %}
            {% set found = run_query('select ' ~ maxima | join(', ') ~ ' from ' ~ this
                                     ~ ' where ' ~ in_months(partition_column, months)) %}
            {% for column in columns %}
                {% set value = found.columns[loop.index0].values()[0] %}
                {% if value is not none and (newest[column] is none
                                             or as_utc(value) > as_utc(newest[column])) %}
                    {% do newest.update({column: value}) %}
                {% endif %}
            {% endfor %}
        {% endif %}
    {% endif %}
    {% do write_cursors(table, this, newest) %}
    {{ return('') }}
{% endmacro %}

{#- Store `newest` (datetimes by cursor column) as the cursors of `relation`. -#}
{% macro write_cursors(table, relation, newest) %}
    {% set rows = [] %}
    {% for column, value in newest.items() %}
        {% do rows.append("select '" ~ cursor_key(relation) ~ "' as model_relation, '" ~ column
                          ~ "' as cursor_column, " ~ timestamp_literal(value)
                          ~ " as newest") %}
    {% endfor %}
    {#- one statement: the rows are replaced together or not at all -#}
    {% do run_query("merge into " ~ table ~ " as stored using (" ~ rows | join(' union all ')
                    ~ ") as computed on stored.model_relation = computed.model_relation"
                    ~ " and stored.cursor_column = computed.cursor_column"
                    ~ " when matched then update set newest = computed.newest"
                    ~ " when not matched then insert (model_relation, cursor_column, newest)"
                    ~ " values (computed.model_relation, computed.cursor_column,"
                    ~ " computed.newest)") %}
{% endmacro %}

{#- post-hook of a mart rebuilt from the line mart `source` (a model name) by the months
    of the lines changed past its own cursors: its cursors are the ones `source` holds
    (stored) when it is built, as every line `source` held then is in it. With no stored
    `columns` of `source`, its own `columns` are deleted (the next run reads `source`
    whole, or compares counties with the mart, for the store cursor). -#}
{% macro copy_cursors(source, columns) %}
    {% if not execute or target.type != 'bigquery' %}
        {{ return('') }}
    {% endif %}
    {#- `source`, built before, created the table in its post-hook, maybe in this run
        (then the relation cache of the run does not list it) -#}
    {% set table = ensure_cursors_table() %}
    {% set stored = read_cursors(table, model_relation(source), columns) %}
    {% if stored is none %}
        {% do run_query("delete from " ~ table ~ " where model_relation = '"
                        ~ cursor_key(this) ~ "' and cursor_column in ('"
                        ~ columns | join("', '") ~ "')") %}
    {% else %}
        {% do write_cursors(table, this, stored) %}
    {% endif %}
    {{ return('') }}
{% endmacro %}

{#- BigQuery, for a mart of insert-only raw rows grouped by the UTC day of their
    `updated_at` (`date_column` of the mart, `this`): the start of the first day to
    recompute whole, as a TIMESTAMP literal, the day of the newest row the mart holds
    less the cursor lag (a row stamped that long before can still arrive); none for an
    empty mart (then read every row). The lookup reads one date column of the mart, a
    row per day and group. -#}
{% macro recent_days_start(date_column) %}
    {% if not execute or target.type != 'bigquery'
          or invocation_args_dict.get('introspect') in (false, 'False', 'false') %}
        {{ return(none) }}
    {% endif %}
    {% set newest = run_query('select max(' ~ date_column ~ ') from ' ~ this)
                    .columns[0].values()[0] %}
    {% if newest is none %}
        {{ return(none) }}
    {% endif %}
    {% set lag = var('oaken_cursor_lag_seconds', env_var('OAKEN_CURSOR_LAG_SECONDS', '0'))
                 | int %}
    {% set day = as_date(newest) %}
    {% set start = modules.datetime.datetime(day.year, day.month, day.day)
                   - modules.datetime.timedelta(seconds=lag) %}
    {{ return(timestamp_literal(modules.datetime.datetime(start.year, start.month, start.day))) }}
{% endmacro %}

{#- A datetime as naive UTC (run_query returns aware ones on BigQuery). -#}
{% macro as_utc(value) %}
    {% if value.tzinfo is not none %}
        {{ return(value.astimezone(modules.pytz.utc).replace(tzinfo=none)) }}
    {% endif %}
    {{ return(value) }}
{% endmacro %}

{#- Stored cursors (datetimes) as the models' cursors: 1900-01-01 for none (an empty
    model, as coalesce() in built_line_cursors), less the cursor lag, as TIMESTAMP
    literals: the values `built_line_cursors` computes with max(). -#}
{% macro cursor_literals(stored) %}
    {% set lag = var('oaken_cursor_lag_seconds', env_var('OAKEN_CURSOR_LAG_SECONDS', '0'))
                 | int %}
    {% set literals = {} %}
    {% for column, value in stored.items() %}
        {% set value = as_utc(value) if value is not none
                       else modules.datetime.datetime(1900, 1, 1) %}
        {% do literals.update({column: timestamp_literal(
            value - modules.datetime.timedelta(seconds=lag))}) %}
    {% endfor %}
    {{ return(literals) }}
{% endmacro %}

{#- The first days of the months (strings 'YYYY-MM-01') of the sale lines whose sale or
    shipment changed after `cursors` (TIMESTAMP literals by column, as
    constant_cursors returns): read from the staging views with constant filters, so
    BigQuery reads only raw's recent day partitions. A shipment carries its sale's date. -#}
{% macro changed_line_months(cursors) %}
    {% set found = run_query(
        "select distinct " ~ period_start('month', 'sale_date') ~ " from ("
        ~ " select sale_date from " ~ model_relation('stg_sales')
        ~ " where updated_at > " ~ cursors.sale_updated_at
        ~ " union all select sale_date from " ~ model_relation('stg_shipments')
        ~ " where updated_at > " ~ cursors.shipment_updated_at ~ ") order by 1") %}
    {% set months = [] %}
    {% for value in found.columns[0].values() %}
        {% if value is not none %}
            {% do months.append((value | string)[:7] ~ '-01') %}
        {% endif %}
    {% endfor %}
    {{ return(months) }}
{% endmacro %}

{#- The relation of the model `name`, from the graph, not ref(): the lookups above run in
    generic tests too (macros/live_tests.sql), where a ref() in a macro is refused. -#}
{% macro model_relation(name) %}
    {% set node = graph.nodes['model.' ~ project_name ~ '.' ~ name] %}
    {{ return(api.Relation.create(database=node.database, schema=node.schema,
                                  identifier=node.alias)) }}
{% endmacro %}

{#- `column`'s month is one of `months` ('YYYY-MM-01' strings; false for none): the
    constant predicate BigQuery prunes month partitions of `column` on. -#}
{% macro in_months(column, months) %}
    {% if not months %}
        {{ return('false') }}
    {% endif %}
    {% set literals = [] %}
    {% for month in months %}
        {% do literals.append("date '" ~ month ~ "'") %}
    {% endfor %}
    {{ return('date_trunc(' ~ column ~ ', month) in (' ~ literals | join(', ') ~ ')') }}
{% endmacro %}

{#- `column` falls on one of `days` (dates): TIMESTAMP ranges, one a day, or false. -#}
{% macro on_days(column, days) %}
    {% set ranges = [] %}
    {% for day in days | sort %}
        {% set start = modules.datetime.datetime(day.year, day.month, day.day) %}
        {% do ranges.append('(' ~ column ~ ' >= ' ~ timestamp_literal(start) ~ ' and '
                            ~ column ~ ' < '
                            ~ timestamp_literal(start + modules.datetime.timedelta(days=1))
                            ~ ')') %}
    {% endfor %}
    {{ return(ranges | join(' or ') if ranges else 'false') }}
{% endmacro %}

{#- fct_sales on BigQuery: what the changed lines need besides the rows of raw past the
    cursors, read from fct_sales (`relation`) by their months (constants, pruned):
    `sale_days` / `shipment_days`, the days of `updated_at` of the sale and shipment a
    changed line was last built with (a shipment that lands on an old sale needs that
    sale, and raw.sales is partitioned by day of updated_at, not by sale date);
    `unbuilt`, the lines whose shipment changed but whose sale neither changed nor was
    ever built (read by key: never the case while the cursor lag holds). -#}
{% macro line_rebuild_plan(relation, cursors) %}
    {% set plan = {'sale_days': [], 'shipment_days': [], 'unbuilt': []} %}
    {% set months = changed_line_months(cursors) %}
    {% if not months %}
        {{ return(plan) }}
    {% endif %}
    {% set found = run_query(
        "with changed as ("
        ~ " select invoice_line_id, 1 as sale_changed from " ~ model_relation('stg_sales')
        ~ " where updated_at > " ~ cursors.sale_updated_at
        ~ " union all select invoice_line_id, 0 from " ~ model_relation('stg_shipments')
        ~ " where updated_at > " ~ cursors.shipment_updated_at ~ "),"
        ~ " changed_lines as (select invoice_line_id, max(sale_changed) as sale_changed"
        ~ " from changed group by invoice_line_id),"
        ~ " built as (select invoice_line_id, sale_updated_at, shipment_updated_at from "
        ~ relation ~ " where " ~ in_months('sale_date', months) ~ ")"
        ~ " select changed_lines.invoice_line_id, changed_lines.sale_changed,"
        ~ " built.invoice_line_id is not null as is_built,"
        ~ " date(built.sale_updated_at) as sale_day,"
        ~ " date(built.shipment_updated_at) as shipment_day"
        ~ " from changed_lines left join built"
        ~ " on changed_lines.invoice_line_id = built.invoice_line_id") %}
    {% set sale_days, shipment_days = [], [] %}
    {% for row in found.rows %}
        {% if row[2] %}
            {% if row[1] == 0 and as_date(row[3]) not in sale_days %}
                {% do sale_days.append(as_date(row[3])) %}
            {% endif %}
            {% if row[4] is not none and as_date(row[4]) not in shipment_days %}
                {% do shipment_days.append(as_date(row[4])) %}
            {% endif %}
        {% elif row[1] == 0 %}
            {% do plan.unbuilt.append(row[0]) %}
        {% endif %}
    {% endfor %}
    {% do plan.update({'sale_days': sale_days, 'shipment_days': shipment_days}) %}
    {{ return(plan) }}
{% endmacro %}

{% macro as_date(value) %}
    {% if value is string %}
        {{ return(modules.datetime.date.fromisoformat(value[:10])) }}
    {% endif %}
    {{ return(modules.datetime.date(value.year, value.month, value.day)) }}
{% endmacro %}

{#- BigQuery: the names the marts built from fct_sales denormalise from the dimensions,
    by mart ('detail': mart_sales_daily_detail; 'county': mart_dashboard_sales and
    mart_dashboard_store_daily), as [key, dimension model, name columns (at most four),
    cursor column]. -#}
{% macro line_mart_dimensions(kind) %}
    {% if kind == 'county' %}
        {{ return([['store_id', 'dim_store', ['county'], 'store_updated_at']]) }}
    {% endif %}
    {{ return([
        ['store_id', 'dim_store', ['store_name', 'city', 'county_number', 'county'],
         'store_updated_at'],
        ['item_id', 'dim_product', ['item_description'], 'item_updated_at'],
        ['category_id', 'dim_category', ['category_name'], 'category_updated_at'],
        ['vendor_id', 'dim_vendor', ['vendor_name'], 'vendor_updated_at']]) }}
{% endmacro %}

{#- oaken_model_names: the names each mart was built with, a row per mart, dimension key
    column and key (name_1..name_4: its name columns as strings), so the renamed keys are
    found without reading the mart. Kept by record_dimension_cursors / copy_dimension_
    cursors, a few thousand rows a mart (stores, items, categories, vendors). -#}
{% macro names_relation() %}
    {{ return(api.Relation.create(database=target.database, schema=target.schema,
                                  identifier='oaken_model_names')) }}
{% endmacro %}

{% macro ensure_names_table() %}
    {% set table = names_relation() %}
    {% if adapter.get_relation(database=table.database, schema=table.schema,
                               identifier=table.identifier) is none %}
        {% do run_query("create table if not exists " ~ table ~ " (model_relation "
                        ~ dbt.type_string() ~ ", key_column " ~ dbt.type_string()
                        ~ ", key_value " ~ dbt.type_bigint() ~ ", name_1 " ~ dbt.type_string()
                        ~ ", name_2 " ~ dbt.type_string() ~ ", name_3 " ~ dbt.type_string()
                        ~ ", name_4 " ~ dbt.type_string() ~ ")") %}
    {% endif %}
    {{ return(table) }}
{% endmacro %}

{#- BigQuery, for a mart built from fct_sales (`relation`): the keys of `dimensions`
    (line_mart_dimensions) renamed since the mart was last built, as constant lists by key
    column, read up front so the model's own query reads fct_sales only in the months of
    the changed lines when nothing was renamed. Read from small tables alone, never the
    mart: the dimension rows written (`updated_at`) after the newest `updated_at` of that
    dimension the mart was built with (its cursor column in oaken_model_cursors), less
    the cursor lag, whose names differ from the ones the mart was built with
    (oaken_model_names). The workers stamp `updated_at` on every write of a dimension row
    (an upsert sets every column), so a rename always moves it past the cursor; a write
    that changes no name (a new price) is dropped by the comparison, and so is a key new
    since the build (absent from oaken_model_names: the mart holds no line of it, as a
    sale line reaches raw with its store and item rows, in one extract moment). Without
    stored cursors (a first incremental run after they were introduced) the names the
    mart holds are compared with the dimensions (keys_renamed_since), which reads those
    columns of the mart whole, once. -#}
{% macro renamed_keys(relation, dimensions) %}
    {% set cursor_columns = [] %}
    {% for key, dimension, columns, cursor_column in dimensions %}
        {% do cursor_columns.append(cursor_column) %}
    {% endfor %}
    {% set stored = stored_cursors(relation, cursor_columns) %}
    {% set parts = [] %}
    {% for key, dimension, columns, cursor_column in dimensions %}
        {% if stored is none %}
            {% set keys_sql = keys_renamed_since(relation, model_relation(dimension), key,
                                                 columns) %}
        {% else %}
            {% set differs = [] %}
            {% for column in columns %}
                {% do differs.append("cast(current_rows." ~ column ~ " as " ~ dbt.type_string()
                                     ~ ") is distinct from built.name_" ~ loop.index) %}
            {% endfor %}
            {% set keys_sql = "select current_rows." ~ key ~ " from " ~ model_relation(dimension)
                ~ " as current_rows inner join " ~ names_relation() ~ " as built"
                ~ " on built.model_relation = '" ~ cursor_key(relation) ~ "'"
                ~ " and built.key_column = '" ~ key ~ "'"
                ~ " and built.key_value = current_rows." ~ key
                ~ " where current_rows.updated_at > " ~ cursor_literals(stored)[cursor_column]
                ~ " and (" ~ differs | join(' or ') ~ ")" %}
        {% endif %}
        {% do parts.append("select '" ~ key ~ "' as key_column, " ~ key ~ " as key_value from ("
                           ~ keys_sql ~ ")") %}
    {% endfor %}
    {% set found = run_query(parts | join(' union all ')) %}
    {% set keys = {} %}
    {% for row in found.rows %}
        {% if row[1] is not none %}
            {% do keys.setdefault(row[0], []).append(row[1] | int) %}
        {% endif %}
    {% endfor %}
    {{ return(keys) }}
{% endmacro %}

{#- post-hook of the marts that denormalise names from the dimensions (`dimensions`, as
    line_mart_dimensions): the names of the dimension rows written past the mart's
    cursors (every row the first time) into oaken_model_names, then the newest
    `updated_at` of each dimension as its cursor. The dimension tables are built once
    per run, before the marts (they are the mart's parents), so both are what the
    model's query joined, not a later state; a row written to the database after is in a
    later run's tables, past this cursor. A build that fails before its post-hooks
    leaves the old cursors and names: the next run compares more keys, never fewer. -#}
{% macro record_dimension_cursors(dimensions) %}
    {% if not execute or target.type != 'bigquery' %}
        {{ return('') }}
    {% endif %}
    {% set table = ensure_cursors_table() %}
    {% set names = ensure_names_table() %}
    {% set cursor_columns, maxima = [], [] %}
    {% for key, dimension, columns, cursor_column in dimensions %}
        {% do cursor_columns.append(cursor_column) %}
        {% do maxima.append("(select max(updated_at) from " ~ model_relation(dimension)
                            ~ ") as " ~ cursor_column) %}
    {% endfor %}
    {% set stored = read_cursors(table, this, cursor_columns) %}
    {% set since = cursor_literals(stored) if stored is not none else none %}
    {% set found = run_query("select " ~ maxima | join(', ')) %}
    {% for key, dimension, columns, cursor_column in dimensions %}
        {% set values = [] %}
        {% for index in range(4) %}
            {% do values.append(("cast(" ~ columns[index] ~ " as " ~ dbt.type_string() ~ ")"
                                 if index < columns | length
                                 else "cast(null as " ~ dbt.type_string() ~ ")")
                                ~ " as name_" ~ (index + 1)) %}
        {% endfor %}
        {% do merge_names(names, "select '" ~ cursor_key(this) ~ "' as model_relation, '" ~ key
                          ~ "' as key_column, " ~ key ~ " as key_value, " ~ values | join(', ')
                          ~ " from " ~ model_relation(dimension)
                          ~ (" where updated_at > " ~ since[cursor_column]
                             if since is not none else "")) %}
    {% endfor %}
    {% set newest = {} %}
    {% for column in cursor_columns %}
        {% do newest.update({column: found.columns[loop.index0].values()[0]}) %}
    {% endfor %}
    {% do write_cursors(table, this, newest) %}
    {{ return('') }}
{% endmacro %}

{#- post-hook of a mart built from the line mart `source` (mart_dashboard_store_daily):
    the dimension cursors and names `source` holds, as copy_cursors does for the line
    cursors; with none, its own cursors of `dimensions` are deleted (the next run
    compares with the mart). -#}
{% macro copy_dimension_cursors(source, dimensions) %}
    {% if not execute or target.type != 'bigquery' %}
        {{ return('') }}
    {% endif %}
    {% set table = ensure_cursors_table() %}
    {% set names = ensure_names_table() %}
    {% set cursor_columns, keys = [], [] %}
    {% for key, dimension, columns, cursor_column in dimensions %}
        {% do cursor_columns.append(cursor_column) %}
        {% do keys.append(key) %}
    {% endfor %}
    {% set stored = read_cursors(table, model_relation(source), cursor_columns) %}
    {% if stored is none %}
        {% do run_query("delete from " ~ table ~ " where model_relation = '"
                        ~ cursor_key(this) ~ "' and cursor_column in ('"
                        ~ cursor_columns | join("', '") ~ "')") %}
        {{ return('') }}
    {% endif %}
    {% do merge_names(names, "select '" ~ cursor_key(this) ~ "' as model_relation, key_column,"
                      ~ " key_value, name_1, name_2, name_3, name_4 from " ~ names
                      ~ " where model_relation = '" ~ cursor_key(model_relation(source))
                      ~ "' and key_column in ('" ~ keys | join("', '") ~ "')") %}
    {% do write_cursors(table, this, stored) %}
    {{ return('') }}
{% endmacro %}

{#- `rows` (a select of oaken_model_names' columns) merged into `names` on the mart, key
    column and key: one statement. -#}
{% macro merge_names(names, rows) %}
    {% do run_query("merge into " ~ names ~ " as stored using (" ~ rows ~ ") as computed"
                    ~ " on stored.model_relation = computed.model_relation"
                    ~ " and stored.key_column = computed.key_column"
                    ~ " and stored.key_value = computed.key_value"
                    ~ " when matched then update set name_1 = computed.name_1,"
                    ~ " name_2 = computed.name_2, name_3 = computed.name_3,"
                    ~ " name_4 = computed.name_4"
                    ~ " when not matched then insert (model_relation, key_column, key_value,"
                    ~ " name_1, name_2, name_3, name_4) values (computed.model_relation,"
                    ~ " computed.key_column, computed.key_value, computed.name_1,"
                    ~ " computed.name_2, computed.name_3, computed.name_4)") %}
{% endmacro %}

{#- `column in (values)` or false -#}
{% macro in_values(column, values) %}
    {{ return(column ~ ' in (' ~ values | join(', ') ~ ')' if values else 'false') }}
{% endmacro %}

{#- `column in ('…', …)` over the strings `values` (quoted, escaped), or false -#}
{% macro in_strings(column, values) %}
    {% set literals = [] %}
    {% for value in values %}
        {% do literals.append("'" ~ (value | string).replace('\\', '\\\\').replace("'", "\\'")
                              ~ "'") %}
    {% endfor %}
    {{ return(in_values(column, literals)) }}
{% endmacro %}

{#- The most keys listed as constants (merge_touched_keys, int_dashboard__invoices): a
    run that touches more reads and merges by a join instead, unrestricted, so that a
    long backlog does not exceed BigQuery's query length. -#}
{% macro touched_keys_limit() %}
    {{ return(var('oaken_touched_keys_limit', 10000) | int) }}
{% endmacro %}

{#- int_receivables__lines on BigQuery: what its changed journal lines (past `cursor`, a
    TIMESTAMP literal) need besides the entries stamped with them (the accounting worker
    writes an entry and its lines in one transaction, with one `updated_at`): the days
    of `updated_at` of their sales, read from fct_sales (built before it on BigQuery) by
    the months of the entries' dates (a sale entry is dated on its sale). `entries` /
    `sales`: the keys found neither way (an entry older than its line, a sale fct_sales
    does not hold), read unpruned in that run. -#}
{% macro receivable_lines_plan(cursor) %}
    {% set plan = {'sale_days': [], 'entries': [], 'sales': []} %}
    {% set changed = changed_receivable_lines(cursor) %}
    {% set found = run_query("select distinct " ~ period_start('month', 'entry_date')
                             ~ " from (" ~ changed ~ ") where found is not null") %}
    {% set months = [] %}
    {% for value in found.columns[0].values() %}
        {% if value is not none %}
            {% do months.append((value | string)[:7] ~ '-01') %}
        {% endif %}
    {% endfor %}
    {% set rows = run_query(
        "select changed.entry_id, changed.found, changed.invoice_line_id,"
        ~ " built.invoice_line_id is not null as is_built,"
        ~ " date(built.sale_updated_at) as sale_day"
        ~ " from (" ~ changed ~ ") as changed left join (select invoice_line_id, sale_updated_at"
        ~ " from " ~ model_relation('fct_sales') ~ " where " ~ in_months('sale_date', months)
        ~ ") as built on changed.invoice_line_id = built.invoice_line_id").rows %}
    {% for row in rows %}
        {% if row[1] is none %}
            {% do plan.entries.append(row[0]) %}
        {% elif row[2] is none %}
            {#- an entry without a sale line: nothing to look up -#}
        {% elif row[3] %}
            {% if as_date(row[4]) not in plan.sale_days %}
                {% do plan.sale_days.append(as_date(row[4])) %}
            {% endif %}
        {% else %}
            {% do plan.sales.append(row[2]) %}
        {% endif %}
    {% endfor %}
    {{ return(plan) }}
{% endmacro %}

{#- The journal lines on 1100 changed past `cursor` (a TIMESTAMP literal), each with its
    entry (`found`, `invoice_line_id`, `entry_date`) when the entry was stamped past the
    same cursor less the lag (the accounting worker writes an entry and its lines in one
    transaction, with one `updated_at`); `found` is null otherwise. Constant filters:
    BigQuery reads only raw's recent day partitions. -#}
{% macro changed_receivable_lines(cursor) %}
    {{ return("select journal_lines.entry_id, journal_entries.entry_id as found,"
        ~ " journal_entries.invoice_line_id, journal_entries.entry_date"
        ~ " from (select entry_id from " ~ model_relation('stg_journal_lines')
        ~ " where updated_at > " ~ cursor ~ " and account_code = '1100') as journal_lines"
        ~ " left join (select entry_id, invoice_line_id, entry_date from "
        ~ model_relation('stg_journal_entries') ~ " where updated_at > " ~ lagged(cursor)
        ~ ") as journal_entries on journal_lines.entry_id = journal_entries.entry_id") }}
{% endmacro %}

{#- The first days of the months (strings 'YYYY-MM-01') of the entry dates of the journal
    lines on 1100 changed past `cursor` (a TIMESTAMP literal): the month partitions of
    int_receivables__lines (and int_receivables__store_days) a run over those lines can
    merge. A line's entry date never changes (the accounting worker only inserts entries
    and lines), so these months hold every line the run merged. An entry stamped before
    its line (only if the cursor lag was exceeded) is looked up by key, unpruned. -#}
{% macro changed_receivable_months(cursor) %}
    {% set found = run_query("select distinct found is null as missing,"
                             ~ " case when found is null then entry_id end as entry_id, "
                             ~ period_start('month', 'entry_date') ~ " as month from ("
                             ~ changed_receivable_lines(cursor) ~ ")") %}
    {% set months, missing = [], [] %}
    {% for row in found.rows %}
        {% if row[0] %}
            {% do missing.append(row[1]) %}
        {% elif row[2] is not none and ((row[2] | string)[:7] ~ '-01') not in months %}
            {% do months.append((row[2] | string)[:7] ~ '-01') %}
        {% endif %}
    {% endfor %}
    {% if missing %}
        {% set found = run_query("select distinct " ~ period_start('month', 'entry_date')
                                 ~ " from " ~ model_relation('stg_journal_entries')
                                 ~ " where entry_id in ('" ~ missing | join("', '") ~ "')") %}
        {% for value in found.columns[0].values() %}
            {% if value is not none and ((value | string)[:7] ~ '-01') not in months %}
                {% do months.append((value | string)[:7] ~ '-01') %}
            {% endif %}
        {% endfor %}
    {% endif %}
    {{ return(months | sort) }}
{% endmacro %}
