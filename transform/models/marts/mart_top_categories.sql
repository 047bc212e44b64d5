-- Every category ranked by all-time sale dollars (rank 1 = best); `is_top_n` flags
-- the top {{ var('top_n') }} that the forecasts cover. Grain: one row per category
-- (sale lines without a category are grouped under category_id -1).

with

fct_sales as (
    select * from {{ ref('fct_sales') }}
),

dim_category as (
    select * from {{ ref('dim_category') }}
),

per_category as (
    select
        coalesce(category_id, -1) as category_id,
        count(*) as sale_lines,
        count(distinct item_id) as items,
        count(distinct store_id) as stores,
        sum(bottles_sold) as bottles_sold,
        sum(volume_liters) as volume_liters,
        sum(sale_dollars) as sale_dollars,
        sum(cost_dollars) as cost_dollars,
        sum(gross_margin) as gross_margin
    from fct_sales
    group by 1
),

ranked as (
    select
        per_category.*,
        row_number() over (order by per_category.sale_dollars desc, per_category.category_id asc)
            as sales_rank,
        {{ ratio('per_category.sale_dollars', 'sum(per_category.sale_dollars) over ()', 6) }}
            as share_of_sales
    from per_category
),

final as (
    select
        ranked.sales_rank,
        ranked.category_id,
        coalesce(dim_category.category_name, 'Unknown') as category_name,
        ranked.sale_lines,
        ranked.items,
        ranked.stores,
        ranked.bottles_sold,
        ranked.volume_liters,
        ranked.sale_dollars,
        ranked.cost_dollars,
        ranked.gross_margin,
        {{ ratio('ranked.gross_margin', 'ranked.sale_dollars') }} as gross_margin_pct,
        ranked.share_of_sales,
        ranked.sales_rank <= {{ var('top_n') }} as is_top_n
    from ranked
    left join dim_category
        on ranked.category_id = dim_category.category_id
)

select * from final
