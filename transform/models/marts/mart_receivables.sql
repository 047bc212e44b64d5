-- What each store owes, from the ledger (account 1100 Accounts Receivable), aged as
-- of the latest posting date. Grain: one row per store. Lines whose sale is unknown
-- to the warehouse are grouped under store_id -1.

-- The postings come from every journal line (one posting each) or, on BigQuery, from
-- int_receivables__store_days (a row per store and entry date, incremental by month):
-- the ageing needs the day of each posting, which that table keeps, so every column is
-- the same sum over fewer rows. Groups left with no line there (postings 0) are skipped.

with

{% if target.type == 'bigquery' -%}
postings as (
    select
        store_id,
        postings,
        billed,
        collected,
        balance,
        open_postings,
        entry_date
    from {{ ref('int_receivables__store_days') }}
    where postings > 0
),
{%- else -%}
postings as (
    {#- a journal line is one posting; it is open while its balance is above 0 -#}
    select
        coalesce(store_id, -1) as store_id,
        1 as postings,
        debit as billed,
        credit as collected,
        balance,
        case when balance > 0 then 1 else 0 end as open_postings,
        entry_date
    from {{ ref('int_receivables__lines') }}
),
{%- endif %}

dim_store as (
    select * from {{ ref('dim_store') }}
),

as_of as (
    select max(entry_date) as as_of_date from postings
),

aged as (
    select
        postings.store_id,
        postings.postings,
        postings.billed,
        postings.collected,
        postings.balance,
        postings.open_postings,
        postings.entry_date,
        as_of.as_of_date,
        {{ dbt.datediff('postings.entry_date', 'as_of.as_of_date', 'day') }} as age_days
    from postings
    cross join as_of
),

per_store as (
    select
        store_id,
        max(as_of_date) as as_of_date,
        cast(sum(postings) as {{ dbt.type_bigint() }}) as postings,
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
