with

source as (
    select * from {{ source('raw', 'stores') }}
),

renamed as (
    select
        ---------- ids
        cast(store_id as {{ dbt.type_bigint() }}) as store_id,
        cast(county_number as {{ dbt.type_bigint() }}) as county_number,

        ---------- strings
        store_name,
        address,
        city,
        zip_code,
        county,
        coalesce(state, 'IA') as state,

        ---------- timestamps
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at
    from source
)

select * from renamed
