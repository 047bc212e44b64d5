{{
    config(
        enabled=(target.type == 'bigquery'),
        materialized='incremental',
        unique_key='store_day_id',
        incremental_strategy='merge',
        on_schema_change='append_new_columns',
        meta={'merge_touched_partitions': true},
        partition_by={'field': 'entry_date', 'data_type': 'date', 'granularity': 'month'},
        pre_hook="{{ forget_cursors() }}",
        post_hook="{{ copy_cursors('int_receivables__lines', ['updated_at']) }}",
    )
}}

-- BigQuery only: the postings to Accounts Receivable (1100) per store and entry date,
-- what mart_receivables ages there instead of every journal line (DuckDB ages the lines
-- directly: no partitions to prune). Grain: one row per store_id (-1: sale unknown) and
-- entry_date. A run recomputes whole the months of the journal lines changed past the
-- cursor int_receivables__lines held when this table was last built (copy_cursors,
-- macros/model_cursors.sql; a line's entry date never changes), reading
-- int_receivables__lines by those months as constants (pruned), and merges only those
-- months. A recomputed group is rebuilt from every line it holds, never added to. A group
-- of those months that no longer has any line (a line re-merged with its store found)
-- is written with postings 0 (the MERGE cannot delete), and mart_receivables skips it.
-- With no stored cursor (first build, a full refresh) it reads int_receivables__lines
-- whole.

{%- set stored = stored_cursors(this, ['updated_at'])
                 if is_incremental() and invocation_args_dict.get('introspect')
                    not in (false, 'False', 'false') else none %}
{%- set months = changed_receivable_months(cursor_literals(stored).updated_at)
                 if stored is not none else none %}

with

receivable_lines as (
    select * from {{ ref('int_receivables__lines') }}
    {%- if months is not none %}
    where {{ in_months('entry_date', months) }}
    {%- endif %}
),

per_store_day as (
    select
        coalesce(store_id, -1) as store_id,
        entry_date,
        count(*) as postings,
        sum(debit) as billed,
        sum(credit) as collected,
        sum(balance) as balance,
        sum(case when balance > 0 then 1 else 0 end) as open_postings
    from receivable_lines
    group by coalesce(store_id, -1), entry_date
),

recomputed as (
    select
        {{ dbt.concat(["cast(entry_date as " ~ dbt.type_string() ~ ")", "'|'",
                       "cast(store_id as " ~ dbt.type_string() ~ ")"]) }} as store_day_id,
        per_store_day.*
    from per_store_day
),

{%- if months is not none %}

emptied as (
    {#- the groups of the recomputed months this table holds that have no line any more -#}
    select
        built.store_day_id,
        built.store_id,
        built.entry_date,
        0 as postings,
        cast(0 as numeric) as billed,
        cast(0 as numeric) as collected,
        cast(0 as numeric) as balance,
        0 as open_postings
    from {{ this }} as built
    where {{ in_months('entry_date', months) }}
        and built.store_day_id not in (select store_day_id from recomputed)
),

final as (
    select * from recomputed
    union all
    select * from emptied
)

{%- else %}

final as (
    select * from recomputed
)

{%- endif %}

select * from final
