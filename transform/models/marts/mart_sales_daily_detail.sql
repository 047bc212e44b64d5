{{
    config(
        materialized='incremental',
        unique_key='daily_store_item_id',
        incremental_strategy=('merge' if target.type == 'bigquery' else 'delete+insert'),
        on_schema_change='append_new_columns',
        meta={'merge_touched_partitions': true},
        partition_by=(
            {'field': 'sale_date', 'data_type': 'date', 'granularity': 'month'}
            if target.type == 'bigquery' else none
        ),
        cluster_by=(['store_id', 'item_id'] if target.type == 'bigquery' else none),
        pre_hook="{{ forget_cursors() }}",
        post_hook=["{{ record_cursors(['sale_updated_at', 'shipment_updated_at']) }}",
                   "{{ record_dimension_cursors(line_mart_dimensions('detail')) }}"],
    )
}}

-- BigQuery: the MERGE reads only the partitions of the changed rows
-- (meta merge_touched_partitions, macros/merge_touched_partitions.sql).

-- Daily sales at the grain the dashboard filters on: one row per sale day × store ×
-- item, with the county of the store and the category and vendor of the item denormalised, so
-- any filter (store, county, category, vendor, item) is a where clause on one table.
-- Incremental: a run re-aggregates only the day × store × item groups that hold a line
-- fct_sales changed since this table was built, or whose store, item, category or
-- vendor names changed since (sale lines never change store, item or day: a second
-- message with the same invoice line id and other content is a conflict).

with

dim_store as (
    select * from {{ ref('dim_store') }}
),

dim_product as (
    select * from {{ ref('dim_product') }}
),

dim_category as (
    select * from {{ ref('dim_category') }}
),

dim_vendor as (
    select * from {{ ref('dim_vendor') }}
),

{% set cursors = none %}
{% if is_incremental() %}
{% set cursors = constant_cursors(built_line_cursors(this), this,
                                  ['sale_updated_at', 'shipment_updated_at']) %}
{% endif %}

{% if cursors is not none %}

{#- BigQuery: fct_sales read only in the months of the lines changed past the cursors
    (constants: BigQuery prunes its month partitions), unless a name changed: then
    every group of the renamed keys, in any month. The renamed keys are read from small
    tables alone, the dimension rows written past the cursors this mart keeps for them
    whose names differ from the ones it was built with (renamed_keys,
    macros/model_cursors.sql). -#}
{% set months = changed_line_months(cursors) %}
{% set renamed = renamed_keys(this, line_mart_dimensions('detail')) %}

changed_groups as (
    select fct_sales.sale_date, fct_sales.store_id, fct_sales.item_id
    from {{ ref('fct_sales') }} as fct_sales
    where {{ in_months('fct_sales.sale_date', months) }}
        and (fct_sales.sale_updated_at > {{ cursors.sale_updated_at }}
            or fct_sales.shipment_updated_at > {{ cursors.shipment_updated_at }})
    {%- if renamed %}
    union distinct
    select sale_date, store_id, item_id
    from {{ this }}
    where {{ in_values('store_id', renamed.get('store_id')) }}
        or {{ in_values('item_id', renamed.get('item_id')) }}
        or {{ in_values('category_id', renamed.get('category_id')) }}
        or {{ in_values('vendor_id', renamed.get('vendor_id')) }}
    {%- endif %}
),

-- every line of the changed groups, old and new: a group is re-aggregated whole
fct_sales as (
    select fct_sales.*
    from {{ ref('fct_sales') }} as fct_sales
    inner join changed_groups
        on fct_sales.sale_date = changed_groups.sale_date
        and fct_sales.store_id = changed_groups.store_id
        and fct_sales.item_id = changed_groups.item_id
    {%- if not renamed %}
    where {{ in_months('fct_sales.sale_date', months) }}
    {%- endif %}
),

{% elif is_incremental() %}

built as (
    {{ built_line_cursors(this) }}
),

renamed_stores as (
    {{ keys_renamed_since(this, 'dim_store', 'store_id',
                          ['store_name', 'city', 'county_number', 'county']) }}
),

renamed_items as (
    {{ keys_renamed_since(this, 'dim_product', 'item_id', ['item_description']) }}
),

renamed_categories as (
    {{ keys_renamed_since(this, 'dim_category', 'category_id', ['category_name']) }}
),

renamed_vendors as (
    {{ keys_renamed_since(this, 'dim_vendor', 'vendor_id', ['vendor_name']) }}
),

changed_groups as (
    select fct_sales.sale_date, fct_sales.store_id, fct_sales.item_id
    from {{ ref('fct_sales') }} as fct_sales
    cross join built
    where {{ line_changed_since('fct_sales', 'built') }}
    union distinct
    select sale_date, store_id, item_id
    from {{ this }}
    where store_id in (select store_id from renamed_stores)
        or item_id in (select item_id from renamed_items)
        or category_id in (select category_id from renamed_categories)
        or vendor_id in (select vendor_id from renamed_vendors)
),

-- every line of the changed groups, old and new: a group is re-aggregated whole
fct_sales as (
    select fct_sales.*
    from {{ ref('fct_sales') }} as fct_sales
    inner join changed_groups
        on fct_sales.sale_date = changed_groups.sale_date
        and fct_sales.store_id = changed_groups.store_id
        and fct_sales.item_id = changed_groups.item_id
),

{% else %}

fct_sales as (
    select * from {{ ref('fct_sales') }}
),

{% endif %}

-- invoices per day × store × item counted in two steps (a group per invoice first):
-- count(distinct) on DuckDB took twice as long over 12.5 million lines
per_invoice as (
    select
        sale_date,
        store_id,
        item_id,
        invoice_id,
        max(category_id) as category_id,
        max(vendor_id) as vendor_id,
        count(*) as sale_lines,
        sum(bottles_sold) as bottles_sold,
        sum(volume_liters) as volume_liters,
        sum(sale_dollars) as sale_dollars,
        sum(cost_dollars) as cost_dollars,
        sum(gross_margin) as gross_margin,
        sum(shipping_cost) as shipping_cost,
        max(sale_updated_at) as sale_updated_at,
        max(shipment_updated_at) as shipment_updated_at
    from fct_sales
    group by sale_date, store_id, item_id, invoice_id
),

aggregated as (
    select
        sale_date,
        store_id,
        item_id,
        max(category_id) as category_id,
        max(vendor_id) as vendor_id,
        sum(sale_lines) as sale_lines,
        count(*) as invoices,
        sum(bottles_sold) as bottles_sold,
        sum(volume_liters) as volume_liters,
        sum(sale_dollars) as sale_dollars,
        sum(cost_dollars) as cost_dollars,
        sum(gross_margin) as gross_margin,
        sum(shipping_cost) as shipping_cost,
        max(sale_updated_at) as sale_updated_at,
        max(shipment_updated_at) as shipment_updated_at
    from per_invoice
    group by sale_date, store_id, item_id
),

final as (
    select
        {{ dbt.concat(["cast(aggregated.sale_date as " ~ dbt.type_string() ~ ")", "'|'",
                       "cast(aggregated.store_id as " ~ dbt.type_string() ~ ")", "'|'",
                       "cast(aggregated.item_id as " ~ dbt.type_string() ~ ")"]) }}
            as daily_store_item_id,
        aggregated.sale_date,
        {{ period_start('month', 'aggregated.sale_date') }} as month_start_date,
        aggregated.store_id,
        dim_store.store_name,
        dim_store.city,
        dim_store.county_number,
        dim_store.county,
        aggregated.item_id,
        dim_product.item_description,
        aggregated.category_id,
        dim_category.category_name,
        aggregated.vendor_id,
        dim_vendor.vendor_name,
        aggregated.sale_lines,
        aggregated.invoices,
        aggregated.bottles_sold,
        aggregated.volume_liters,
        aggregated.sale_dollars,
        aggregated.cost_dollars,
        aggregated.gross_margin,
        aggregated.shipping_cost,
        aggregated.sale_updated_at,
        aggregated.shipment_updated_at
    from aggregated
    left join dim_store
        on aggregated.store_id = dim_store.store_id
    left join dim_product
        on aggregated.item_id = dim_product.item_id
    left join dim_category
        on aggregated.category_id = dim_category.category_id
    left join dim_vendor
        on aggregated.vendor_id = dim_vendor.vendor_id
)

select * from final
