-- Freight in fct_sales and mart_shipping_performance equals the raw shipments to the cent.

with

raw_shipments as (
    select count(*) as shipments, {{ money('sum(shipping_cost)', 18) }} as shipping_cost
    from {{ source('raw', 'shipments') }}
),

fct_sales as (
    select
        sum(case when is_shipped then 1 else 0 end) as shipments,
        sum(shipping_cost) as shipping_cost
    from {{ ref('fct_sales') }}
),

mart as (
    select sum(shipped_lines) as shipments, sum(shipping_cost) as shipping_cost
    from {{ ref('mart_shipping_performance') }}
)

select raw_shipments.*, fct_sales.shipments as fct_shipments, mart.shipments as mart_shipments
from raw_shipments
cross join fct_sales
cross join mart
where raw_shipments.shipments <> fct_sales.shipments
    or raw_shipments.shipments <> mart.shipments
    or coalesce(raw_shipments.shipping_cost, 0) <> coalesce(fct_sales.shipping_cost, 0)
    or coalesce(raw_shipments.shipping_cost, 0) <> coalesce(mart.shipping_cost, 0)
