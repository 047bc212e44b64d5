{{
    config(
        materialized='incremental',
        unique_key='invoice_line_id',
        incremental_strategy=('merge' if target.type == 'bigquery' else 'delete+insert'),
        on_schema_change='append_new_columns',
        meta={'merge_touched_partitions': true},
        partition_by=(
            {'field': 'sale_date', 'data_type': 'date', 'granularity': 'month'}
            if target.type == 'bigquery' else none
        ),
        cluster_by=(['store_id', 'category_id', 'item_id'] if target.type == 'bigquery' else none),
        pre_hook="{{ forget_cursors() }}",
        post_hook=["{{ record_cursors(['sale_updated_at', 'shipment_updated_at']) }}",
                   "{{ record_dimension_cursors(line_mart_dimensions('county')) }}"],
    )
}}

-- BigQuery: the MERGE reads only the partitions of the changed rows
-- (meta merge_touched_partitions, macros/merge_touched_partitions.sql).

-- The line-grain mart of the dashboard: one narrow row per sale line with every filter key
-- denormalised (store, county, category, vendor, item), so any filter combination is a
-- where clause on one table and distinct invoices/stores stay exact. Stored in sale
-- date order, so a date range reads only the row groups it needs.
-- Incremental: a run rebuilds the lines fct_sales changed since this table was built
-- (new sales, new shipments) and every line of a store whose county changed.

with

dim_store as (
    select * from {{ ref('dim_store') }}
),

{% set cursors = none %}
{% if is_incremental() %}
{% set cursors = constant_cursors(built_line_cursors(this), this,
                                  ['sale_updated_at', 'shipment_updated_at']) %}
{% endif %}

{% if cursors is not none %}

{#- BigQuery: fct_sales read only in the months of the lines changed past the cursors
    (constants: BigQuery prunes its month partitions), plus every line of a store whose
    county changed since this mart was built (looked up first in dim_store and the
    counties this mart was built with, small tables: renamed_keys; rare) -#}
{% set months = changed_line_months(cursors) %}
{% set recounted = renamed_keys(this, line_mart_dimensions('county')).get('store_id', []) %}

fct_sales as (
    select fct_sales.*
    from {{ ref('fct_sales') }} as fct_sales
    where ({{ in_months('fct_sales.sale_date', months) }}
            and (fct_sales.sale_updated_at > {{ cursors.sale_updated_at }}
                or fct_sales.shipment_updated_at > {{ cursors.shipment_updated_at }}))
        {%- if recounted %}
        or {{ in_values('fct_sales.store_id', recounted) }}
        {%- endif %}
),

{% elif is_incremental() %}

built as (
    {{ built_line_cursors(this) }}
),

-- stores whose county is not the one their lines were built with
recounted_stores as (
    select built_counties.store_id
    from (select distinct store_id, county from {{ this }}) as built_counties
    left join dim_store
        on built_counties.store_id = dim_store.store_id
    where coalesce(dim_store.county, 'Unknown') <> built_counties.county
),

fct_sales as (
    select fct_sales.*
    from {{ ref('fct_sales') }} as fct_sales
    cross join built
    where {{ line_changed_since('fct_sales', 'built') }}
        or fct_sales.store_id in (select store_id from recounted_stores)
),

{% else %}

fct_sales as (
    select * from {{ ref('fct_sales') }}
),

{% endif %}

narrow as (
    select
        fct_sales.invoice_line_id,
        fct_sales.invoice_id,
        fct_sales.sale_date,
        {{ period_start('month', 'fct_sales.sale_date') }} as month_start_date,
        fct_sales.store_id,
        coalesce(dim_store.county, 'Unknown') as county,
        coalesce(fct_sales.category_id, -1) as category_id,
        coalesce(fct_sales.vendor_id, -1) as vendor_id,
        fct_sales.item_id,
        fct_sales.bottles_sold,
        fct_sales.sale_dollars,
        fct_sales.cost_dollars,
        fct_sales.gross_margin,
        fct_sales.is_shipped,
        fct_sales.ship_date,
        fct_sales.days_to_ship,
        fct_sales.shipping_cost,
        fct_sales.sale_updated_at,
        fct_sales.shipment_updated_at
    from fct_sales
    left join dim_store
        on fct_sales.store_id = dim_store.store_id
),

final as (
    select * from narrow
    {% if target.type != 'bigquery' %}order by sale_date, store_id{% endif %}
)

select * from final
