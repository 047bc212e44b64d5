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
        cluster_by=(['store_id', 'item_id'] if target.type == 'bigquery' else none),
        pre_hook="{{ forget_cursors() }}",
        post_hook="{{ record_cursors(['sale_updated_at', 'shipment_updated_at']) }}",
    )
}}

-- BigQuery: the MERGE reads only the partitions of the changed rows
-- (meta merge_touched_partitions, macros/merge_touched_partitions.sql); the cursors
-- come from oaken_model_cursors, kept by the hooks (macros/model_cursors.sql).

-- depends_on: {{ ref('stg_sales') }}
-- depends_on: {{ ref('stg_shipments') }}
-- depends_on: {{ ref('int_sales__shipped') }}

-- One row per sale line. Incremental: a run only rebuilds lines whose sale or
-- shipment changed since the last run (a shipment often lands a run after its sale).

{% set cursors = none %}
{% if is_incremental() %}
{#- BigQuery: the cursors as TIMESTAMP literals, so the filters on raw prune its
    updated_at partitions; elsewhere the one-row subquery -#}
{% set cursors = constant_cursors(built_line_cursors(this), this,
                                  ['sale_updated_at', 'shipment_updated_at']) %}
{% endif %}

with

{% if cursors is not none %}

{#- BigQuery: the changed lines joined from recent rows only. int_sales__shipped would
    read all of raw.sales and raw.shipments; instead the sales and shipments past the
    cursors, plus the days of raw (from fct_sales, pruned by month) holding the sale or
    shipment an older line was built with. -#}
{% set plan = line_rebuild_plan(this, cursors) %}

changed_lines as (
    select invoice_line_id
    from {{ ref('stg_sales') }}
    where updated_at > {{ cursors.sale_updated_at }}
    union distinct
    select invoice_line_id
    from {{ ref('stg_shipments') }}
    where updated_at > {{ cursors.shipment_updated_at }}
),

recent_sales as (
    select *
    from {{ ref('stg_sales') }}
    where updated_at > {{ cursors.sale_updated_at }}
        or {{ on_days('updated_at', plan.sale_days) }}
        {%- if plan.unbuilt %}
        or invoice_line_id in ('{{ plan.unbuilt | join("', '") }}')
        {%- endif %}
),

-- the shipment of a new sale is stamped after it (less the clock skew the lag allows)
recent_shipments as (
    select *
    from {{ ref('stg_shipments') }}
    where updated_at > {{ cursors.shipment_updated_at }}
        or updated_at > {{ lagged(cursors.sale_updated_at) }}
        or {{ on_days('updated_at', plan.shipment_days) }}
),

sales_shipped as (
    {{ sales_shipped('recent_sales', 'recent_shipments') }}
),

new_or_changed as (
    select sales_shipped.*
    from sales_shipped
    inner join changed_lines
        on sales_shipped.invoice_line_id = changed_lines.invoice_line_id
),

{% else %}

sales_shipped as (
    select * from {{ ref('int_sales__shipped') }}
),

{% if is_incremental() %}

built as (
    {{ built_line_cursors(this) }}
),

changed_sales as (
    select sales.invoice_line_id
    from {{ ref('stg_sales') }} as sales
    cross join built
    where sales.updated_at > built.sale_updated_at
    union distinct
    select shipments.invoice_line_id
    from {{ ref('stg_shipments') }} as shipments
    cross join built
    where shipments.updated_at > built.shipment_updated_at
),

new_or_changed as (
    select sales_shipped.*
    from sales_shipped
    inner join changed_sales
        on sales_shipped.invoice_line_id = changed_sales.invoice_line_id
),

{% else %}

new_or_changed as (
    select * from sales_shipped
),

{% endif %}

{% endif %}

final as (
    select * from new_or_changed
)

-- every column of int_sales__shipped, whatever they are
select * from final  -- noqa: AM04
