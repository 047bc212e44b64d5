with

source as (
    select * from {{ source('raw', 'products') }}
),

renamed as (
    select
        ---------- ids
        cast(item_id as {{ dbt.type_bigint() }}) as item_id,
        cast(category_id as {{ dbt.type_bigint() }}) as category_id,
        cast(vendor_id as {{ dbt.type_bigint() }}) as vendor_id,

        ---------- strings
        item_description,

        ---------- numerics
        cast(pack as {{ dbt.type_bigint() }}) as pack,
        cast(bottle_volume_ml as {{ dbt.type_bigint() }}) as bottle_volume_ml,
        {{ money('bottle_cost') }} as bottle_cost,
        {{ money('bottle_retail') }} as bottle_retail,

        ---------- dates
        cast(price_date as date) as price_date,

        ---------- timestamps
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at
    from source
)

select * from renamed
