-- Every version of every item's price, from the products snapshot (SCD type 2).

with

snapshot as (
    select * from {{ ref('snap_products') }}
),

final as (
    select
        dbt_scd_id as product_version_id,
        item_id,
        item_description,
        bottle_cost,
        bottle_retail,
        price_date,
        dbt_valid_from as valid_from,
        dbt_valid_to as valid_to,
        dbt_valid_to is null as is_current
    from snapshot
)

select * from final
