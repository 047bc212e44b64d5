with

source as (
    select * from {{ source('raw', 'employees') }}
),

renamed as (
    select
        ---------- ids
        cast(employee_id as {{ dbt.type_bigint() }}) as employee_id,
        cast(position_id as {{ dbt.type_bigint() }}) as position_id,

        ---------- strings
        first_name,
        last_name,

        ---------- dates
        cast(hired_on as date) as hired_date,

        ---------- timestamps
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at
    from source
)

select * from renamed
