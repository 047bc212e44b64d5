with

vendors as (
    select * from {{ ref('stg_vendors') }}
),

final as (
    select vendor_id, vendor_name, updated_at from vendors
)

select * from final
