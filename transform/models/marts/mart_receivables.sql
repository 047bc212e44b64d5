-- What each store owes, from the ledger (account 1100 Accounts Receivable), aged as
-- of the latest posting date. Grain: one row per store. Lines whose sale is unknown
-- to the warehouse are grouped under store_id -1.

{%- if target.type == 'bigquery' %}
-- BigQuery: aged from int_receivables__store_days (a row per store and entry date,
-- incremental by month) instead of every journal line: the ageing needs the day of each
-- posting, which that table keeps, so every column is the same sum over fewer rows.
-- Groups left with no line there (postings 0) are skipped.
{%- endif %}

with

{% if target.type == 'bigquery' -%}
store_days as (
    select * from {{ ref('int_receivables__store_days') }}
    where postings > 0
),

dim_store as (
    select * from {{ ref('dim_store') }}
),

as_of as (
    select max(entry_date) as as_of_date from store_days
),

aged as (
    select
        store_days.store_id,
        store_days.postings,
        store_days.billed,
        store_days.collected,
        store_days.balance,
        store_days.open_postings,
        store_days.entry_date,
        as_of.as_of_date,
        {{ dbt.datediff('store_days.entry_date', 'as_of.as_of_date', 'day') }} as age_days
    from store_days
    cross join as_of
),

per_store as (
    select
        store_id,
        max(as_of_date) as as_of_date,
        sum(postings) as postings,
        sum(billed) as billed,
        sum(collected) as collected,
        sum(balance) as balance,
        sum(case when age_days <= 30 then balance else 0 end) as balance_0_30_days,
        sum(case when age_days between 31 and 60 then balance else 0 end) as balance_31_60_days,
        sum(case when age_days between 61 and 90 then balance else 0 end) as balance_61_90_days,
        sum(case when age_days > 90 then balance else 0 end) as balance_over_90_days,
        min(case when open_postings > 0 then entry_date end) as oldest_open_date,
        max(entry_date) as last_posting_date
    from aged
    group by store_id
),
{%- else -%}
receivable_lines as (
    select * from {{ ref('int_receivables__lines') }}
),

dim_store as (
    select * from {{ ref('dim_store') }}
),

as_of as (
    select max(entry_date) as as_of_date from receivable_lines
),

aged as (
    select
        coalesce(receivable_lines.store_id, -1) as store_id,
        receivable_lines.debit,
        receivable_lines.credit,
        receivable_lines.balance,
        receivable_lines.entry_date,
        as_of.as_of_date,
        {{ dbt.datediff('receivable_lines.entry_date', 'as_of.as_of_date', 'day') }} as age_days
    from receivable_lines
    cross join as_of
),

per_store as (
    select
        store_id,
        max(as_of_date) as as_of_date,
        count(*) as postings,
        sum(debit) as billed,
        sum(credit) as collected,
        sum(balance) as balance,
        sum(case when age_days <= 30 then balance else 0 end) as balance_0_30_days,
        sum(case when age_days between 31 and 60 then balance else 0 end) as balance_31_60_days,
        sum(case when age_days between 61 and 90 then balance else 0 end) as balance_61_90_days,
        sum(case when age_days > 90 then balance else 0 end) as balance_over_90_days,
        min(case when balance > 0 then entry_date end) as oldest_open_date,
        max(entry_date) as last_posting_date
    from aged
    group by store_id
),
{%- endif %}

final as (
    select
        per_store.store_id,
        dim_store.store_name,
        dim_store.city,
        dim_store.county,
        per_store.as_of_date,
        per_store.postings,
        per_store.billed,
        per_store.collected,
        per_store.balance,
        per_store.balance_0_30_days,
        per_store.balance_31_60_days,
        per_store.balance_61_90_days,
        per_store.balance_over_90_days,
        per_store.oldest_open_date,
        per_store.last_posting_date
    from per_store
    left join dim_store
        on per_store.store_id = dim_store.store_id
)

select * from final
