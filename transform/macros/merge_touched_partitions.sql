{#- BigQuery's incremental MERGE, restricted to the partitions its new rows fall in.

    dbt-bigquery's `merge` reads the whole target table to match keys: at 12.5 million
    sales every micro-batch would bill all of fct_sales. A model that sets
    `meta: {merge_touched_partitions: true}` (fct_sales, mart_sales_daily_detail,
    mart_dashboard_sales and the small marts partitioned by month of sale_date;
    int_receivables__lines and int_receivables__store_days by month of entry_date: the
    predicate is on the model's own partition field) gets one more condition in the
    MERGE's ON clause: the target's partition is one of the partitions of the rows being
    merged, listed as date literals. BigQuery prunes on constants (a subquery or a join would not prune), so
    the MERGE reads only those partitions.

    "Recent" is decided from the data, never from a window: the partitions are read
    from the temporary table dbt-bigquery builds first (the changed rows only, cheap),
    so a shipment that updates a sale of last year touches last year's partition too.
    Safe because a row's partition column never changes for its key: a sale line's
    date is fixed (a second message with the same line id and other content is a
    conflict, not an update), and mart_sales_daily_detail's key holds the date; a
    journal line's entry date is fixed too (the accounting worker only inserts entries
    and lines), and the store-day key holds it. A model without that property must not
    set the flag.

    `meta: {merge_touched_keys: <string column>}` (int_dashboard__invoices, not
    partitioned, clustered by that column) does the same with the keys themselves: the
    target's key is one of the keys of the rows being merged, as string literals, so
    BigQuery reads only the clustered blocks that can hold them (up to
    touched_keys_limit() keys; beyond, the MERGE matches keys over the whole target).

    Every other model, DuckDB, a first build and --full-refresh go through dbt's own
    macros unchanged. -#}
{% macro bq_generate_incremental_merge_build_sql(
    tmp_relation, target_relation, sql, unique_key, partition_by, dest_columns,
    tmp_relation_exists, incremental_predicates
) %}
    {#- dbt-bigquery 1.12's macro of this name (its namespace cannot be called from a
        project), with the touched partitions added to its predicates -#}
    {%- set source_sql -%}
        {%- if tmp_relation_exists -%}
        (
        select
        {% if partition_by.time_ingestion_partitioning -%}
        {{ partition_by.insertable_time_partitioning_field() }},
        {%- endif -%}
        * from {{ tmp_relation }}
        )
        {%- else -%}
        (
            {%- if partition_by.time_ingestion_partitioning -%}
            {{ wrap_with_time_ingestion_partitioning_sql(partition_by, sql, True) }}
            {%- else -%}
            {{ sql }}
            {%- endif %}
        )
        {%- endif -%}
    {%- endset -%}

    {%- set predicates = [] if incremental_predicates is none else [] + incremental_predicates -%}
    {%- set avoid_require_partition_filter = predicate_for_avoid_require_partition_filter() -%}
    {%- if avoid_require_partition_filter is not none -%}
        {%- do predicates.append(avoid_require_partition_filter) -%}
    {%- endif -%}
    {%- if (config.get('meta') or {}).get('merge_touched_partitions') and tmp_relation_exists
          and partition_by is not none and not partition_by.time_ingestion_partitioning -%}
        {%- set touched = touched_partitions_predicate(tmp_relation, partition_by) -%}
        {%- if touched is not none -%}
            {%- do predicates.append(touched) -%}
        {%- endif -%}
    {%- endif -%}
    {%- set key = (config.get('meta') or {}).get('merge_touched_keys') -%}
    {%- if key and tmp_relation_exists -%}
        {%- set touched = touched_keys_predicate(tmp_relation, key) -%}
        {%- if touched is not none -%}
            {%- do predicates.append(touched) -%}
        {%- endif -%}
    {%- endif -%}

    {{ return(get_merge_sql(target_relation, source_sql, unique_key, dest_columns, predicates)) }}
{% endmacro %}

{#- `<target partition> in (date '…', …)` over the partitions of the rows in
    `tmp_relation`; `false` when it holds none (nothing to match); none (no restriction)
    when a row has no partition value or the partitioning is not by date. -#}
{% macro touched_partitions_predicate(tmp_relation, partition_by) %}
    {%- if partition_by.data_type | lower != 'date' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set found = run_query("select distinct " ~ partition_by.render() ~ " from "
                              ~ tmp_relation ~ " order by 1") -%}
    {%- set partitions = found.columns[0].values() | list -%}
    {%- if partitions | select('none') | list | length > 0 -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if partitions | length == 0 -%}
        {{ return('false') }}
    {%- endif -%}
    {%- set literals = [] -%}
    {%- for partition in partitions -%}
        {%- do literals.append("date '" ~ (partition | string)[:10] ~ "'") -%}
    {%- endfor -%}
    {{ return(partition_by.render('DBT_INTERNAL_DEST') ~ " in (" ~ literals | join(", ") ~ ")") }}
{% endmacro %}

{#- `<target key> in ('…', …)` over the string keys `key` of the rows in `tmp_relation`;
    `false` when it holds none; none (no restriction) beyond touched_keys_limit() keys. -#}
{% macro touched_keys_predicate(tmp_relation, key) %}
    {%- set keys = run_query("select distinct " ~ key ~ " from " ~ tmp_relation
                             ~ " order by 1").columns[0].values() | list -%}
    {%- if keys | length > touched_keys_limit() or keys | select('none') | list | length > 0 -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(in_strings('DBT_INTERNAL_DEST.' ~ key, keys)) }}
{% endmacro %}
