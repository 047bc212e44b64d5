-- One row per day from the first January of the first sale year to 90 days past the
-- last sale (room for the 30-day forecasts).

with

bounds as (
    select
        {{ period_start('year', 'min(sale_date)') }} as first_day,
        {{ dbt.dateadd('day', 90, 'max(sale_date)') }} as last_day
    from {{ ref('stg_sales') }}
),

spine as (
    {{ date_spine_between(
        "select coalesce(first_day, current_date) from bounds",
        "select coalesce(cast(last_day as date), current_date) from bounds"
    ) }}
),

final as (
    select
        date_day,
        cast(extract(year from date_day) as {{ dbt.type_int() }}) as year_number,
        cast(extract(quarter from date_day) as {{ dbt.type_int() }}) as quarter_number,
        cast(extract(month from date_day) as {{ dbt.type_int() }}) as month_number,
        {{ month_name('date_day') }} as month_name,
        cast(extract(day from date_day) as {{ dbt.type_int() }}) as day_of_month,
        {{ iso_day_of_week('date_day') }} as iso_day_of_week,
        {{ day_name('date_day') }} as day_name,
        {{ iso_day_of_week('date_day') }} in (6, 7) as is_weekend,
        {{ period_start('week', 'date_day') }} as week_start_date,
        {{ period_start('month', 'date_day') }} as month_start_date,
        {{ period_start('quarter', 'date_day') }} as quarter_start_date,
        {{ period_start('year', 'date_day') }} as year_start_date
    from spine
)

select * from final
