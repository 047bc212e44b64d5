-- Every sales mart adds up to fct_sales: lines, bottles, dollars and margin to the cent.

with

totals as (
    select
        'fct_sales' as model_name, count(*) as sale_lines, sum(bottles_sold) as bottles_sold,
        sum(sale_dollars) as sale_dollars, sum(cost_dollars) as cost_dollars
    from {{ ref('fct_sales') }}
    union all
    select
        'mart_sales_daily', sum(sale_lines), sum(bottles_sold), sum(sale_dollars),
        sum(cost_dollars)
    from {{ ref('mart_sales_daily') }}
    union all
    select
        'mart_sales_daily_detail', sum(sale_lines), sum(bottles_sold), sum(sale_dollars),
        sum(cost_dollars)
    from {{ ref('mart_sales_daily_detail') }}
    union all
    select
        'mart_sales_monthly', sum(sale_lines), sum(bottles_sold), sum(sale_dollars),
        sum(cost_dollars)
    from {{ ref('mart_sales_monthly') }}
    union all
    select
        'mart_top_items', sum(sale_lines), sum(bottles_sold), sum(sale_dollars),
        sum(cost_dollars)
    from {{ ref('mart_top_items') }}
    union all
    select
        'mart_top_categories', sum(sale_lines), sum(bottles_sold), sum(sale_dollars),
        sum(cost_dollars)
    from {{ ref('mart_top_categories') }}
    union all
    select
        'mart_gross_margin', sum(sale_lines), null, sum(sale_dollars), sum(cost_dollars)
    from {{ ref('mart_gross_margin') }}
),

reference as (
    select * from totals
    where model_name = 'fct_sales'
)

select totals.*
from totals
cross join reference
where totals.sale_lines <> reference.sale_lines
    or totals.bottles_sold <> reference.bottles_sold
    or totals.sale_dollars <> reference.sale_dollars
    or coalesce(totals.cost_dollars, 0) <> coalesce(reference.cost_dollars, 0)
