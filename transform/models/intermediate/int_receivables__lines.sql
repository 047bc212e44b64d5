-- Every posting to Accounts Receivable (1100) with the sale line and store it is
-- about: the ledger is the source of truth for what is owed, not the sales table.

with

journal_lines as (
    select * from {{ ref('stg_journal_lines') }}
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
        journal_lines.debit - journal_lines.credit as balance
    from journal_lines
    inner join journal_entries
        on journal_lines.entry_id = journal_entries.entry_id
    left join sales
        on journal_entries.invoice_line_id = sales.invoice_line_id
    where journal_lines.account_code = '1100'
)

select * from receivable_lines
