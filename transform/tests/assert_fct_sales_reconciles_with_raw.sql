-- fct_sales holds every raw sale line once, with the same bottles and dollars to the cent.

with

raw_sales as (
    select
        count(*) as sale_lines,
        sum(bottles_sold) as bottles_sold,
        {{ money('sum(sale_dollars)', 18) }} as sale_dollars
    from {{ source('raw', 'sales') }}
),

fct_sales as (
    select
        count(*) as sale_lines,
        sum(bottles_sold) as bottles_sold,
        sum(sale_dollars) as sale_dollars
    from {{ ref('fct_sales') }}
)

select
    raw_sales.sale_lines as raw_sale_lines,
    fct_sales.sale_lines as fct_sale_lines,
    raw_sales.sale_dollars as raw_sale_dollars,
    fct_sales.sale_dollars as fct_sale_dollars
from raw_sales
cross join fct_sales
where raw_sales.sale_lines <> fct_sales.sale_lines
    or raw_sales.bottles_sold <> fct_sales.bottles_sold
    or raw_sales.sale_dollars <> fct_sales.sale_dollars
