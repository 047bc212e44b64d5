-- Company-wide sales per calendar month. Grain: one row per month with sales.

with

fct_sales as (
    select * from {{ ref('fct_sales') }}
),

monthly as (
    select
        {{ period_start('month', 'sale_date') }} as month_start_date,
        count(*) as sale_lines,
        count(distinct invoice_id) as invoices,
        count(distinct store_id) as active_stores,
        count(distinct item_id) as items_sold,
        sum(bottles_sold) as bottles_sold,
        sum(volume_liters) as volume_liters,
        sum(sale_dollars) as sale_dollars,
        sum(cost_dollars) as cost_dollars,
        sum(gross_margin) as gross_margin,
        sum(shipping_cost) as shipping_cost
    from fct_sales
    group by 1
),

with_growth as (
    select
        monthly.*,
        cast(extract(year from monthly.month_start_date) as {{ dbt.type_int() }}) as year_number,
        cast(extract(month from monthly.month_start_date) as {{ dbt.type_int() }})
            as month_number,
        {{ ratio('monthly.gross_margin', 'monthly.sale_dollars') }} as gross_margin_pct,
        lag(monthly.sale_dollars) over (order by monthly.month_start_date)
            as previous_month_sale_dollars
    from monthly
),

final as (
    select
        with_growth.*,
        {{ ratio('with_growth.sale_dollars - with_growth.previous_month_sale_dollars',
                 'with_growth.previous_month_sale_dollars') }} as sale_dollars_growth_pct
    from with_growth
)

select * from final
