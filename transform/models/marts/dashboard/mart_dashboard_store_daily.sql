-- The dashboard's fast path: one row per sale day × store. When no product filter
-- (category, vendor, item) is set, every scorecard and chart that needs invoices,
-- stores or totals sums these rows instead of scanning sale lines. Summing `invoices`
-- across rows is exact because an invoice belongs to one store on one day;
-- mart_dashboard_meta.split_invoices counts the invoices for which that is not true,
-- and the dashboard uses mart_dashboard_sales instead whenever it is not zero.

with

dashboard_sales as (
    select * from {{ ref('mart_dashboard_sales') }}
),

per_store_day as (
    select
        sale_date,
        store_id,
        max(month_start_date) as month_start_date,
        max(county) as county,
        count(*) as sale_lines,
        count(distinct invoice_id) as invoices,
        sum(bottles_sold) as bottles_sold,
        sum(sale_dollars) as sale_dollars,
        sum(cost_dollars) as cost_dollars,
        sum(gross_margin) as gross_margin,
        sum(case when is_shipped then 1 else 0 end) as shipped_lines,
        sum(case when is_shipped then sale_dollars end) as shipped_sale_dollars,
        sum(shipping_cost) as shipping_cost,
        sum(days_to_ship) as days_to_ship_total
    from dashboard_sales
    group by sale_date, store_id
),

final as (
    select
        {{ dbt.concat(["cast(sale_date as " ~ dbt.type_string() ~ ")", "'|'",
                       "cast(store_id as " ~ dbt.type_string() ~ ")"]) }} as store_day_id,
        per_store_day.*
    from per_store_day
    {% if target.type != 'bigquery' -%}
    order by per_store_day.sale_date, per_store_day.store_id
    {%- endif %}
)

select * from final
