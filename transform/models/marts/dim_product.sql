-- Current attributes of every item, with its price history summarised from the
-- snapshot (full history: dim_product_price_history).

with

products as (
    select * from {{ ref('stg_products') }}
),

categories as (
    select * from {{ ref('stg_categories') }}
),

vendors as (
    select * from {{ ref('stg_vendors') }}
),

price_history as (
    select
        item_id,
        count(*) as price_versions,
        min(dbt_valid_from) as first_seen_at
    from {{ ref('snap_products') }}
    group by item_id
),

final as (
    select
        products.item_id,
        products.item_description,
        products.category_id,
        categories.category_name,
        products.vendor_id,
        vendors.vendor_name,
        products.pack,
        products.bottle_volume_ml,
        products.bottle_cost,
        products.bottle_retail,
        {{ money('products.bottle_retail - products.bottle_cost') }} as bottle_margin,
        products.price_date,
        coalesce(price_history.price_versions, 1) as price_versions,
        price_history.first_seen_at,
        products.updated_at
    from products
    left join categories
        on products.category_id = categories.category_id
    left join vendors
        on products.vendor_id = vendors.vendor_id
    left join price_history
        on products.item_id = price_history.item_id
)

select * from final
