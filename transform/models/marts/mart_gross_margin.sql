-- Gross margin (sale dollars − bottles × bottle cost) per month and category.
-- Grain: one row per month × category. Lines without a known bottle cost count in
-- sale_dollars and lines_without_cost but not in cost or margin.

with

fct_sales as (
    select * from {{ ref('fct_sales') }}
),

dim_category as (
    select * from {{ ref('dim_category') }}
),

aggregated as (
    select
        {{ period_start('month', 'sale_date') }} as month_start_date,
        coalesce(category_id, -1) as category_id,
        count(*) as sale_lines,
        sum(case when cost_dollars is null then 1 else 0 end) as lines_without_cost,
        sum(sale_dollars) as sale_dollars,
        sum(case when cost_dollars is not null then sale_dollars end) as costed_sale_dollars,
        sum(cost_dollars) as cost_dollars,
        sum(gross_margin) as gross_margin
    from fct_sales
    group by 1, 2
),

final as (
    select
        {{ dbt.concat(["cast(aggregated.month_start_date as " ~ dbt.type_string() ~ ")", "'|'",
                       "cast(aggregated.category_id as " ~ dbt.type_string() ~ ")"]) }}
            as month_category_id,
        aggregated.month_start_date,
        aggregated.category_id,
        coalesce(dim_category.category_name, 'Unknown') as category_name,
        aggregated.sale_lines,
        aggregated.lines_without_cost,
        aggregated.sale_dollars,
        aggregated.cost_dollars,
        aggregated.gross_margin,
        {{ ratio('aggregated.gross_margin', 'aggregated.costed_sale_dollars') }}
            as gross_margin_pct
    from aggregated
    left join dim_category
        on aggregated.category_id = dim_category.category_id
)

select * from final
