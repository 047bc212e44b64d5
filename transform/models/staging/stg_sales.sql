with

source as (
    select * from {{ source('raw', 'sales') }}
),

renamed as (
    select
        ---------- ids
        invoice_line_id,
        invoice_id,
        cast(store_id as {{ dbt.type_bigint() }}) as store_id,
        cast(item_id as {{ dbt.type_bigint() }}) as item_id,
        cast(vendor_id as {{ dbt.type_bigint() }}) as vendor_id,
        cast(category_id as {{ dbt.type_bigint() }}) as category_id,
        cast(employee_id as {{ dbt.type_bigint() }}) as employee_id,

        ---------- strings
        state,
        content_hash,
        -- how the line entered: the name of an API key, replay:<file>, import:<file>;
        -- null for lines recorded before the platform kept it
        sent_by,

        ---------- numerics
        cast(pack as {{ dbt.type_bigint() }}) as pack,
        cast(bottle_volume_ml as {{ dbt.type_bigint() }}) as bottle_volume_ml,
        cast(bottles_sold as {{ dbt.type_bigint() }}) as bottles_sold,
        {{ money('bottle_cost') }} as bottle_cost,
        {{ money('bottle_retail') }} as bottle_retail,
        {{ money('sale_dollars') }} as sale_dollars,
        {{ money('volume_liters') }} as volume_liters,

        ---------- dates
        cast(sale_date as date) as sale_date,

        ---------- timestamps
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at
    from source
)

select * from renamed
