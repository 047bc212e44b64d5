with

source as (
    select * from {{ source('raw', 'journal_lines') }}
),

renamed as (
    select
        ---------- ids
        {{ dbt.concat(['entry_id', "'|'", 'account_code']) }} as journal_line_id,
        entry_id,
        cast(account_code as {{ dbt.type_string() }}) as account_code,

        ---------- numerics
        {{ money('debit', 14) }} as debit,
        {{ money('credit', 14) }} as credit,

        ---------- timestamps
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at
    from source
)

select * from renamed
