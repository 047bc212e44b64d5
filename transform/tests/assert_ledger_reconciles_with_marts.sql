-- The ledger balances; receivables equal the debits to 1100 and the sales; cost of
-- goods in fct_sales equals the debits to 5000 (all to the cent, from the raw layer).
-- The sales compared are those the ledger has posted (a sale entry in raw): while sales
-- stream, the extract's one moment holds sales the accounting worker has not posted
-- yet, in flight, not missing (oaken status reports them as waiting, with their age).

with

ledger as (
    select
        {{ money('sum(debit)', 18) }} as debits,
        {{ money('sum(credit)', 18) }} as credits,
        {{ money("sum(case when account_code = '1100' then debit - credit else 0 end)", 18) }}
            as receivable,
        {{ money("sum(case when account_code = '5000' then debit else 0 end)", 18) }}
            as cost_of_goods
    from {{ source('raw', 'journal_lines') }}
),

posted_lines as (
    select invoice_line_id
    from {{ source('raw', 'journal_entries') }}
    where source = 'sale'
),

posted_sales as (
    select
        sum(fct_sales.sale_dollars) as sale_dollars,
        sum(fct_sales.cost_dollars) as cost_of_goods
    from {{ ref('fct_sales') }} as fct_sales
    where fct_sales.invoice_line_id in (select posted_lines.invoice_line_id from posted_lines)
),

marts as (
    select
        (select sum(receivables.balance) from {{ ref('mart_receivables') }} as receivables)
            as receivable,
        posted_sales.sale_dollars,
        posted_sales.cost_of_goods
    from posted_sales
)

select ledger.*, marts.receivable as mart_receivable, marts.sale_dollars
from ledger
cross join marts
where coalesce(ledger.debits, 0) <> coalesce(ledger.credits, 0)
    or coalesce(ledger.receivable, 0) <> coalesce(marts.receivable, 0)
    or coalesce(ledger.receivable, 0) <> coalesce(marts.sale_dollars, 0)
    or coalesce(ledger.cost_of_goods, 0) <> coalesce(marts.cost_of_goods, 0)
