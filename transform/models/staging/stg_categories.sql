with

source as (
    select * from {{ source('raw', 'categories') }}
),

renamed as (
    select
        ---------- ids
        cast(category_id as {{ dbt.type_bigint() }}) as category_id,

        ---------- strings
        category_name,

        ---------- timestamps
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at
    from source
)

select * from renamed
