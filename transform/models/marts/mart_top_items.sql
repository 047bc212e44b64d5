-- Every item ranked by all-time sale dollars (rank 1 = best seller); `is_top_n`
-- flags the top {{ var('top_n') }} that the forecasts cover. Grain: one row per item.

with

fct_sales as (
    select * from {{ ref('fct_sales') }}
),

dim_product as (
    select * from {{ ref('dim_product') }}
),

per_item as (
    select
        item_id,
        count(*) as sale_lines,
        count(distinct store_id) as stores,
        sum(bottles_sold) as bottles_sold,
        sum(volume_liters) as volume_liters,
        sum(sale_dollars) as sale_dollars,
        sum(cost_dollars) as cost_dollars,
        sum(gross_margin) as gross_margin,
        min(sale_date) as first_sale_date,
        max(sale_date) as last_sale_date
    from fct_sales
    group by item_id
),

ranked as (
    select
        per_item.*,
        row_number() over (order by per_item.sale_dollars desc, per_item.item_id asc)
            as sales_rank,
        {{ ratio('per_item.sale_dollars', 'sum(per_item.sale_dollars) over ()', 6) }}
            as share_of_sales
    from per_item
),

final as (
    select
        ranked.sales_rank,
        ranked.item_id,
        dim_product.item_description,
        dim_product.category_id,
        dim_product.category_name,
        dim_product.vendor_id,
        dim_product.vendor_name,
        ranked.sale_lines,
        ranked.stores,
        ranked.bottles_sold,
        ranked.volume_liters,
        ranked.sale_dollars,
        ranked.cost_dollars,
        ranked.gross_margin,
        {{ ratio('ranked.gross_margin', 'ranked.sale_dollars') }} as gross_margin_pct,
        ranked.share_of_sales,
        ranked.first_sale_date,
        ranked.last_sale_date,
        ranked.sales_rank <= {{ var('top_n') }} as is_top_n
    from ranked
    left join dim_product
        on ranked.item_id = dim_product.item_id
)

select * from final
