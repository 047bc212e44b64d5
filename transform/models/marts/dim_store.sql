with

stores as (
    select * from {{ ref('stg_stores') }}
),

final as (
    select
        store_id,
        store_name,
        address,
        city,
        zip_code,
        county_number,
        county,
        state,
        updated_at
    from stores
)

select * from final
