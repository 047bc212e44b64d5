with

source as (
    select * from {{ source('raw', 'accounts') }}
),

renamed as (
    select
        ---------- ids
        cast(account_code as {{ dbt.type_string() }}) as account_code,

        ---------- strings
        account_name,
        account_type,

        ---------- timestamps
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at
    from source
)

select * from renamed
