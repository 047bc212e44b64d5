-- Shipping performance per sale month: how fast lines ship (calendar days from sale
-- to ship) and what freight costs as a share of sales. Grain: one row per month.

with

fct_sales as (
    select * from {{ ref('fct_sales') }}
),

monthly as (
    select
        {{ period_start('month', 'sale_date') }} as month_start_date,
        count(*) as sale_lines,
        sum(case when is_shipped then 1 else 0 end) as shipped_lines,
        sum(case when is_shipped then 0 else 1 end) as unshipped_lines,
        sum(case when is_shipped then sale_dollars end) as shipped_sale_dollars,
        sum(shipping_cost) as shipping_cost,
        avg(cast(days_to_ship as {{ type_double() }})) as avg_days_to_ship,
        max(days_to_ship) as max_days_to_ship,
        sum(case when days_to_ship = 0 then 1 else 0 end) as shipped_same_day,
        sum(case when days_to_ship <= 2 then 1 else 0 end) as shipped_within_2_days,
        sum(case when days_to_ship > 4 then 1 else 0 end) as shipped_after_4_days
    from fct_sales
    group by 1
),

final as (
    select
        month_start_date,
        sale_lines,
        shipped_lines,
        unshipped_lines,
        shipped_sale_dollars,
        shipping_cost,
        {{ ratio('shipping_cost', 'shipped_sale_dollars') }} as shipping_cost_share,
        {{ ratio('shipping_cost', 'shipped_lines', 2) }} as avg_shipping_cost_per_line,
        round(avg_days_to_ship, 2) as avg_days_to_ship,
        max_days_to_ship,
        shipped_same_day,
        shipped_within_2_days,
        shipped_after_4_days,
        {{ ratio('shipped_within_2_days', 'shipped_lines') }} as share_within_2_days
    from monthly
)

select * from final
