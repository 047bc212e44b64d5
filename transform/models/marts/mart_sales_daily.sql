-- Company-wide sales per day. Grain: one row per calendar day from the first to the
-- last sale day (days without sales have zeros, so the series is gap-free).

with

fct_sales as (
    select * from {{ ref('fct_sales') }}
),

dim_date as (
    select * from {{ ref('dim_date') }}
),

daily as (
    select
        sale_date,
        count(*) as sale_lines,
        count(distinct invoice_id) as invoices,
        count(distinct store_id) as active_stores,
        sum(bottles_sold) as bottles_sold,
        sum(volume_liters) as volume_liters,
        sum(sale_dollars) as sale_dollars,
        sum(cost_dollars) as cost_dollars,
        sum(gross_margin) as gross_margin,
        sum(shipping_cost) as shipping_cost
    from fct_sales
    group by sale_date
),

calendar as (
    select dim_date.*
    from dim_date
    where dim_date.date_day between (select min(daily.sale_date) from daily)
        and (select max(daily.sale_date) from daily)
),

final as (
    select
        calendar.date_day as sale_date,
        calendar.iso_day_of_week,
        calendar.is_weekend,
        calendar.month_start_date,
        coalesce(daily.sale_lines, 0) as sale_lines,
        coalesce(daily.invoices, 0) as invoices,
        coalesce(daily.active_stores, 0) as active_stores,
        coalesce(daily.bottles_sold, 0) as bottles_sold,
        coalesce(daily.volume_liters, 0) as volume_liters,
        coalesce(daily.sale_dollars, 0) as sale_dollars,
        coalesce(daily.cost_dollars, 0) as cost_dollars,
        coalesce(daily.gross_margin, 0) as gross_margin,
        coalesce(daily.shipping_cost, 0) as shipping_cost,
        {{ ratio('daily.gross_margin', 'daily.sale_dollars') }} as gross_margin_pct
    from calendar
    left join daily
        on calendar.date_day = daily.sale_date
)

select * from final
