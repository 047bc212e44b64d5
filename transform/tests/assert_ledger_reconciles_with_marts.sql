-- The ledger balances; receivables equal the debits to 1100 and the sales; cost of
-- goods in fct_sales equals the debits to 5000 (all to the cent, from the raw layer).

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

marts as (
    select
        (select sum(balance) from {{ ref('mart_receivables') }}) as receivable,
        (select sum(sale_dollars) from {{ ref('fct_sales') }}) as sale_dollars,
        (select sum(cost_dollars) from {{ ref('fct_sales') }}) as cost_of_goods
)

select ledger.*, marts.receivable as mart_receivable, marts.sale_dollars
from ledger
cross join marts
where coalesce(ledger.debits, 0) <> coalesce(ledger.credits, 0)
    or coalesce(ledger.receivable, 0) <> coalesce(marts.receivable, 0)
    or coalesce(ledger.receivable, 0) <> coalesce(marts.sale_dollars, 0)
    or coalesce(ledger.cost_of_goods, 0) <> coalesce(marts.cost_of_goods, 0)
