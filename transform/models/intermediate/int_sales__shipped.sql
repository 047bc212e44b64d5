-- Sale lines with their shipment and the money derived from them: cost of goods,
-- gross margin, freight and days to ship. Shipments can land a run after their sale.

with

sales as (
    select * from {{ ref('stg_sales') }}
),

shipments as (
    select * from {{ ref('stg_shipments') }}
),

-- macros/sales_shipped.sql: the same select fct_sales runs over recent rows on BigQuery
joined as (
    {{ sales_shipped('sales', 'shipments') }}
)

select * from joined
