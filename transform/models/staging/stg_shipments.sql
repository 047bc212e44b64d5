with

source as (
    select * from {{ source('raw', 'shipments') }}
),

renamed as (
    select
        ---------- ids
        invoice_line_id,

        ---------- numerics
        {{ money('shipping_cost') }} as shipping_cost,

        ---------- dates
        cast(sale_date as date) as sale_date,
        cast(ship_date as date) as ship_date,

        ---------- timestamps
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at
    from source
)

select * from renamed
