with

source as (
    select * from {{ source('raw', 'journal_entries') }}
),

renamed as (
    select
        ---------- ids
        entry_id,
        invoice_line_id,

        ---------- strings
        source as entry_source,
        memo,

        ---------- dates
        cast(entry_date as date) as entry_date,

        ---------- timestamps
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at
    from source
)

select * from renamed
