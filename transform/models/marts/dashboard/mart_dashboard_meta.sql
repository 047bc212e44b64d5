-- One row describing what the dashboard can show: the sale date range (the default
-- filter), totals, and split_invoices, the number of invoices spread over more than one
-- store or day (when it is not zero, mart_dashboard_store_daily cannot sum invoices
-- exactly and the dashboard counts them on mart_dashboard_sales instead), and
-- data_through, when the newest sale in the warehouse was accepted (UTC).
-- BigQuery: from small tables instead of every sale line: the totals and the date range
-- summed over mart_dashboard_store_daily (a row per sale day and store), the invoices
-- counted over int_dashboard__invoices (a row per invoice: count(*) reads no column,
-- split ones one BOOL column), and data_through, the newest sale_updated_at of
-- mart_dashboard_sales, from the cursor table (its max() by construction,
-- macros/model_cursors.sql; read whole from the mart only when the table has no row).

with

{%- if target.type == 'bigquery' %}
{#- built after mart_dashboard_sales and its post-hook (the cursors it stores) #}
-- depends_on: {{ ref('mart_dashboard_sales') }}
{%- set stored = stored_cursors(model_relation('mart_dashboard_sales'), ['sale_updated_at'])
                 if execute and invocation_args_dict.get('introspect')
                    not in (false, 'False', 'false') else none %}

totals as (
    select
        min(sale_date) as first_sale_date,
        max(sale_date) as last_sale_date,
        coalesce(sum(sale_lines), 0) as sale_lines,
        sum(sale_dollars) as sale_dollars,
        {%- if stored is not none %}
        {{ timestamp_literal(stored.sale_updated_at) }} as data_through
        {%- else %}
        (select max(sale_updated_at) from {{ ref('mart_dashboard_sales') }}) as data_through
        {%- endif %}
    from {{ ref('mart_dashboard_store_daily') }}
),

invoice_totals as (
    select
        count(*) as invoices,
        countif(is_split) as split_invoices
    from {{ ref('int_dashboard__invoices') }}
),
{%- else %}

dashboard_sales as (
    select * from {{ ref('mart_dashboard_sales') }}
),

invoices as (
    select
        invoice_id,
        min(sale_date) <> max(sale_date) or min(store_id) <> max(store_id) as is_split
    from dashboard_sales
    group by invoice_id
),

totals as (
    select
        min(sale_date) as first_sale_date,
        max(sale_date) as last_sale_date,
        count(*) as sale_lines,
        sum(sale_dollars) as sale_dollars,
        max(sale_updated_at) as data_through
    from dashboard_sales
),

invoice_totals as (
    select
        count(*) as invoices,
        coalesce(sum(case when is_split then 1 else 0 end), 0) as split_invoices
    from invoices
),
{%- endif %}

final as (
    select
        1 as meta_id,
        totals.first_sale_date,
        totals.last_sale_date,
        totals.sale_lines,
        totals.sale_dollars,
        invoice_totals.invoices,
        invoice_totals.split_invoices,
        totals.data_through,
        {{ dbt.current_timestamp() }} as built_at
    from totals
    cross join invoice_totals
)

select * from final
