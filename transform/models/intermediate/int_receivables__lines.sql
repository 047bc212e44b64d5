{{
    config(
        materialized='incremental',
        unique_key='journal_line_id',
        incremental_strategy=('merge' if target.type == 'bigquery' else 'delete+insert'),
        on_schema_change='append_new_columns',
        meta={'merge_touched_partitions': true},
        partition_by=(
            {'field': 'entry_date', 'data_type': 'date', 'granularity': 'month'}
            if target.type == 'bigquery' else none
        ),
        pre_hook="{{ forget_cursors() }}",
        post_hook="{{ record_cursors(['updated_at'], 'entry_date') }}",
    )
}}

-- Every posting to Accounts Receivable (1100) with the sale line and store it is
-- about: the ledger is the source of truth for what is owed, not the sales table.
-- A table, grown incrementally: the join reads 75 million journal lines at 12.5
-- million sales, so a run adds only the lines that changed since the last one.
-- BigQuery: built after fct_sales, whose month partitions tell the days of raw that hold
-- the sales of the changed lines (macros/model_cursors.sql, receivable_lines_plan).
{#- BigQuery: partitioned by month of entry_date (a line's entry, and so its date, never
    changes: the accounting worker only inserts), the MERGE reads only the months of the
    lines it merges (meta merge_touched_partitions), and the cursor comes from
    oaken_model_cursors, kept by the hooks (record_cursors by the months of
    changed_receivable_months). #}
{% if target.type == 'bigquery' %}
-- depends_on: {{ ref('fct_sales') }}
{% endif %}

{% set cursors = none %}

with

journal_lines as (
    select * from {{ ref('stg_journal_lines') }}
    {% if is_incremental() %}
    {#- BigQuery: a TIMESTAMP literal, so the filter prunes raw's updated_at partitions -#}
    {% set cursor_sql = 'select ' ~ lagged('max(updated_at)') ~ ' as updated_at from ' ~ this %}
    {% set cursors = constant_cursors(cursor_sql, this, ['updated_at']) %}
    where updated_at > {{ cursors.updated_at if cursors is not none
                          else '(' ~ cursor_sql ~ ')' }}
    {% endif %}
),

{% if cursors is not none %}

{#- BigQuery: only the entries stamped with the changed lines and the days of raw that
    hold their sales, as constants (pruned), instead of every entry and every sale -#}
{% set plan = receivable_lines_plan(cursors.updated_at) %}

journal_entries as (
    select * from {{ ref('stg_journal_entries') }}
    where updated_at > {{ lagged(cursors.updated_at) }}
    {%- if plan.entries %}
        or entry_id in ('{{ plan.entries | join("', '") }}')
    {%- endif %}
),

sales as (
    select * from {{ ref('stg_sales') }}
    where {{ on_days('updated_at', plan.sale_days) }}
    {%- if plan.sales %}
        or invoice_line_id in ('{{ plan.sales | join("', '") }}')
    {%- endif %}
),

{% else %}

journal_entries as (
    select * from {{ ref('stg_journal_entries') }}
),

sales as (
    select * from {{ ref('stg_sales') }}
),

{% endif %}

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
