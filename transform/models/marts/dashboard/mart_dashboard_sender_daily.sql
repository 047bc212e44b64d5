-- The Operations tab's "sales per sender per day": how sale lines entered the platform
-- (sales.sent_by: an API key's name, replay:<file>, import:<file>), by the UTC day the
-- source-of-truth database recorded them. Lines recorded before the platform kept the
-- sender are counted under '(not recorded)'.

with

stg_sales as (
    select * from {{ ref('stg_sales') }}
),

recorded as (
    select
        cast(stg_sales.updated_at as date) as recorded_date,
        coalesce(stg_sales.sent_by, '(not recorded)') as sent_by,
        stg_sales.sale_dollars
    from stg_sales
),

per_sender_day as (
    select
        recorded.recorded_date,
        recorded.sent_by,
        count(*) as sale_lines,
        sum(recorded.sale_dollars) as sale_dollars
    from recorded
    group by recorded.recorded_date, recorded.sent_by
),

final as (
    select
        {{ dbt.concat(["cast(recorded_date as " ~ dbt.type_string() ~ ")", "'|'",
                       "sent_by"]) }} as sender_day_id,
        per_sender_day.*
    from per_sender_day
)

select * from final
