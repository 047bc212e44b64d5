-- The ledger balance check on the dashboard's Operations tab: debits and credits per
-- account, from the warehouse copy of the ledger. Grain: one row per account posted to.
-- BigQuery: summed from int_ledger__account_days (per account and day, incremental),
-- not from every journal line.

with

{%- if target.type == 'bigquery' %}

per_account as (
    select
        account_code,
        sum(postings) as postings,
        sum(debits) as debits,
        sum(credits) as credits
    from {{ ref('int_ledger__account_days') }}
    group by account_code
),
{%- else %}

journal_lines as (
    select * from {{ ref('stg_journal_lines') }}
),
{%- endif %}

accounts as (
    select * from {{ ref('stg_accounts') }}
),
{%- if target.type != 'bigquery' %}

per_account as (
    select
        account_code,
        count(*) as postings,
        sum(debit) as debits,
        sum(credit) as credits
    from journal_lines
    group by account_code
),
{%- endif %}

final as (
    select
        per_account.account_code,
        coalesce(accounts.account_name, 'Unknown') as account_name,
        accounts.account_type,
        per_account.postings,
        per_account.debits,
        per_account.credits,
        per_account.debits - per_account.credits as balance
    from per_account
    left join accounts
        on per_account.account_code = accounts.account_code
)

select * from final
