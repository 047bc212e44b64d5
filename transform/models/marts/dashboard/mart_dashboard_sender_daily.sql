{{
    config(
        materialized=('incremental' if target.type == 'bigquery' else 'table'),
        unique_key=('sender_day_id' if target.type == 'bigquery' else none),
        incremental_strategy=('merge' if target.type == 'bigquery' else none),
        on_schema_change=('append_new_columns' if target.type == 'bigquery' else none),
        meta={'merge_touched_partitions': target.type == 'bigquery'},
        partition_by=(
            {'field': 'recorded_date', 'data_type': 'date', 'granularity': 'month'}
            if target.type == 'bigquery' else none
        ),
    )
}}

-- The "sales per sender per day" of the Operations tab: how sale lines entered the
-- platform (sales.sent_by: the name of an API key, replay:<file>, import:<file>), by the
-- UTC day the source-of-truth database recorded them. Lines recorded before the platform
-- kept the sender are counted under (not recorded).
-- BigQuery: incremental. Sale lines are never updated (a second message is a
-- conflict), so a run recomputes whole only the days from the newest one it holds
-- (less the cursor lag) and merges them; the read of raw is restricted by a constant
-- on updated_at (pruned), and the MERGE touches only those months.

with

stg_sales as (
    select * from {{ ref('stg_sales') }}
    {%- set start = recent_days_start('recorded_date') if is_incremental() else none %}
    {%- if start is not none %}
    where updated_at >= {{ start }}
    {%- endif %}
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
