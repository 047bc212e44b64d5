{{
    config(
        enabled=(target.type == 'bigquery'),
        materialized='incremental',
        unique_key='account_day_id',
        incremental_strategy='merge',
        on_schema_change='append_new_columns',
        meta={'merge_touched_partitions': true},
        partition_by={'field': 'posted_date', 'data_type': 'date', 'granularity': 'month'},
    )
}}

-- BigQuery only: the postings, debits and credits of each account per UTC day of the
-- journal lines updated_at, what mart_dashboard_ledger sums there instead of every
-- journal line. Journal lines are never updated (the accounting worker only inserts
-- them), so a run recomputes whole the days from the newest one this table holds (less
-- the cursor lag), read from raw by a constant on updated_at (pruned), and merges only
-- their months. DuckDB sums the journal lines directly (no partitions to prune).

with

journal_lines as (
    select * from {{ ref('stg_journal_lines') }}
    {%- set start = recent_days_start('posted_date') if is_incremental() else none %}
    {%- if start is not none %}
    where updated_at >= {{ start }}
    {%- endif %}
),

per_account_day as (
    select
        account_code,
        cast(updated_at as date) as posted_date,
        count(*) as postings,
        sum(debit) as debits,
        sum(credit) as credits
    from journal_lines
    group by account_code, cast(updated_at as date)
),

final as (
    select
        {{ dbt.concat(["cast(posted_date as " ~ dbt.type_string() ~ ")", "'|'",
                       "account_code"]) }} as account_day_id,
        per_account_day.*
    from per_account_day
)

select * from final
