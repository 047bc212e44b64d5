{{
    config(
        materialized=('incremental' if target.type == 'bigquery' else 'table'),
        unique_key=('store_day_id' if target.type == 'bigquery' else none),
        incremental_strategy=('merge' if target.type == 'bigquery' else none),
        on_schema_change=('append_new_columns' if target.type == 'bigquery' else none),
        meta={'merge_touched_partitions': target.type == 'bigquery'},
        partition_by=(
            {'field': 'sale_date', 'data_type': 'date', 'granularity': 'month'}
            if target.type == 'bigquery' else none
        ),
        pre_hook="{{ forget_cursors() }}",
        post_hook=["{{ copy_cursors('mart_dashboard_sales', ['sale_updated_at', 'shipment_updated_at']) }}",
                   "{{ copy_dimension_cursors('mart_dashboard_sales', line_mart_dimensions('county')) }}"],
    )
}}

-- The fast path of the dashboard: one row per sale day × store. When no product filter
-- (category, vendor, item) is set, every scorecard and chart that needs invoices,
-- stores or totals sums these rows instead of scanning sale lines. Summing `invoices`
-- across rows is exact because an invoice belongs to one store on one day;
-- mart_dashboard_meta.split_invoices counts the invoices for which that is not true,
-- and the dashboard uses mart_dashboard_sales instead whenever it is not zero.
-- BigQuery: incremental. A run recomputes whole the months of the lines changed past
-- the cursors of mart_dashboard_sales when this mart was last built (copy_cursors,
-- macros/model_cursors.sql; a line keeps its month), read by constants (pruned), plus
-- every day of a store whose county changed (read from dim_store and the counties this
-- mart was built with, copied from mart_dashboard_sales with its cursors:
-- renamed_keys, copy_dimension_cursors; rare), and merges only those months.

with

{%- set stored = stored_cursors(this, ['sale_updated_at', 'shipment_updated_at'])
                 if is_incremental() and invocation_args_dict.get('introspect')
                    not in (false, 'False', 'false') else none %}

dashboard_sales as (
    select * from {{ ref('mart_dashboard_sales') }}
    {%- if stored is not none %}
    {%- set recounted = renamed_keys(this, line_mart_dimensions('county')).get('store_id', []) %}
    where {{ in_months('sale_date', changed_line_months(cursor_literals(stored))) }}
    {%- if recounted %}
        or {{ in_values('store_id', recounted) }}
    {%- endif %}
    {%- endif %}
),

per_store_day as (
    select
        sale_date,
        store_id,
        max(month_start_date) as month_start_date,
        max(county) as county,
        count(*) as sale_lines,
        count(distinct invoice_id) as invoices,
        sum(bottles_sold) as bottles_sold,
        sum(sale_dollars) as sale_dollars,
        sum(cost_dollars) as cost_dollars,
        sum(gross_margin) as gross_margin,
        sum(case when is_shipped then 1 else 0 end) as shipped_lines,
        sum(case when is_shipped then sale_dollars end) as shipped_sale_dollars,
        sum(shipping_cost) as shipping_cost,
        sum(days_to_ship) as days_to_ship_total
    from dashboard_sales
    group by sale_date, store_id
),

final as (
    select
        {{ dbt.concat(["cast(sale_date as " ~ dbt.type_string() ~ ")", "'|'",
                       "cast(store_id as " ~ dbt.type_string() ~ ")"]) }} as store_day_id,
        per_store_day.*
    from per_store_day
    {% if target.type != 'bigquery' -%}
    order by per_store_day.sale_date, per_store_day.store_id
    {%- endif %}
)

select * from final
