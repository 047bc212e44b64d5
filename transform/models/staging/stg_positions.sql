with

source as (
    select * from {{ source('raw', 'positions') }}
),

renamed as (
    select
        ---------- ids
        cast(position_id as {{ dbt.type_bigint() }}) as position_id,

        ---------- strings
        title as position_title,
        department,

        ---------- timestamps
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at
    from source
)

select * from renamed
