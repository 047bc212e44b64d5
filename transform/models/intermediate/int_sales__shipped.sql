-- Sale lines with their shipment and the money derived from them: cost of goods,
-- gross margin, freight and days to ship. Shipments can land a run after their sale.

with

sales as (
    select * from {{ ref('stg_sales') }}
),

shipments as (
    select * from {{ ref('stg_shipments') }}
),

joined as (
    select
        sales.invoice_line_id,
        sales.invoice_id,
        sales.sale_date,
        sales.store_id,
        sales.item_id,
        sales.vendor_id,
        sales.category_id,
        sales.employee_id,
        sales.pack,
        sales.bottle_volume_ml,
        sales.bottle_cost,
        sales.bottle_retail,
        sales.bottles_sold,
        sales.sale_dollars,
        sales.volume_liters,
        {{ money('sales.bottles_sold * sales.bottle_cost') }} as cost_dollars,
        {{ money('sales.sale_dollars - sales.bottles_sold * sales.bottle_cost') }} as gross_margin,
        shipments.ship_date,
        {{ dbt.datediff('sales.sale_date', 'shipments.ship_date', 'day') }} as days_to_ship,
        shipments.shipping_cost,
        shipments.invoice_line_id is not null as is_shipped,
        sales.updated_at as sale_updated_at,
        shipments.updated_at as shipment_updated_at
    from sales
    left join shipments
        on sales.invoice_line_id = shipments.invoice_line_id
)

select * from joined
