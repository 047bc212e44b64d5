{{
    config(
        materialized='incremental',
        unique_key='journal_line_id',
        incremental_strategy=('merge' if target.type == 'bigquery' else 'delete+insert'),
        on_schema_change='append_new_columns',
    )
}}

-- Every posting to Accounts Receivable (1100) with the sale line and store it is
-- about: the ledger is the source of truth for what is owed, not the sales table.
-- A table, grown incrementally: the join reads 75 million journal lines at 12.5
-- million sales, so a run adds only the lines that changed since the last one.

with

journal_lines as (
    select * from {{ ref('stg_journal_lines') }}
    {% if is_incremental() %}
    {#- BigQuery: a TIMESTAMP literal, so the filter prunes raw's updated_at partitions -#}
    {% set cursor_sql = 'select ' ~ lagged('max(updated_at)') ~ ' as updated_at from ' ~ this %}
    {% set cursors = constant_cursors(cursor_sql) %}
    where updated_at > {{ cursors.updated_at if cursors is not none
                          else '(' ~ cursor_sql ~ ')' }}
    {% endif %}
),

journal_entries as (
    select * from {{ ref('stg_journal_entries') }}
),

sales as (
    select * from {{ ref('stg_sales') }}
),

receivable_lines as (
    select
        journal_lines.journal_line_id,
        journal_lines.entry_id,
        journal_entries.invoice_line_id,
        journal_entries.entry_date,
        sales.store_id,
        journal_lines.debit,
        journal_lines.credit,
        journal_lines.debit - journal_lines.credit as balance,
        journal_lines.updated_at
    from journal_lines
    inner join journal_entries
        on journal_lines.entry_id = journal_entries.entry_id
    left join sales
        on journal_entries.invoice_line_id = sales.invoice_line_id
    where journal_lines.account_code = '1100'
)

select * from receivable_lines
