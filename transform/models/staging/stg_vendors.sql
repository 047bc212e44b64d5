with

source as (
    select * from {{ source('raw', 'vendors') }}
),

renamed as (
    select
        ---------- ids
        cast(vendor_id as {{ dbt.type_bigint() }}) as vendor_id,

        ---------- strings
        vendor_name,

        ---------- timestamps
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at
    from source
)

select * from renamed
