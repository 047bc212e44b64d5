{{
    config(
        enabled=(target.type == 'bigquery'),
        materialized='incremental',
        unique_key='invoice_id',
        incremental_strategy='merge',
        on_schema_change='append_new_columns',
        cluster_by=['invoice_id'],
        meta={'merge_touched_keys': 'invoice_id'},
        pre_hook="{{ forget_cursors() }}",
        post_hook="{{ copy_cursors('mart_dashboard_sales', ['sale_updated_at', 'shipment_updated_at']) }}",
    )
}}

-- BigQuery only: one row per invoice, the first and last day and the lowest and highest
-- store of its lines, what mart_dashboard_meta counts invoices and split invoices on
-- instead of grouping every sale line. A line's invoice, date and store never change (a
-- second message with other content is a conflict), so an invoice's bounds only widen:
-- a run reads the lines of mart_dashboard_sales changed past the cursors it held when
-- this table was last built (copy_cursors, macros/model_cursors.sql), in their months
-- (constants: pruned), and the rows of their invoices here by a constant list of
-- invoice_id (the clustering column: BigQuery skips the other blocks), and merges
-- least/greatest of both, only into those invoices (merge_touched_keys,
-- macros/merge_touched_partitions.sql). Reading a line twice (the cursor lag) changes
-- nothing. Without stored cursors (first build, full refresh): from every line.

with

{%- set stored = stored_cursors(this, ['sale_updated_at', 'shipment_updated_at'])
                 if is_incremental() and invocation_args_dict.get('introspect')
                    not in (false, 'False', 'false') else none %}
{%- if stored is not none %}
{%- set cursors = cursor_literals(stored) %}
{%- set changed_lines = in_months('sale_date', changed_line_months(cursors))
    ~ ' and (sale_updated_at > ' ~ cursors.sale_updated_at
    ~ ' or shipment_updated_at > ' ~ cursors.shipment_updated_at ~ ')' %}
{%- set invoices = run_query('select distinct invoice_id from ' ~ model_relation('mart_dashboard_sales')
                             ~ ' where ' ~ changed_lines ~ ' order by 1')
                   .columns[0].values() | list %}
{%- endif %}

dashboard_sales as (
    select invoice_id, sale_date, store_id from {{ ref('mart_dashboard_sales') }}
    {%- if stored is not none %}
    where {{ changed_lines }}
    {%- endif %}
),

changed as (
    select
        invoice_id,
        min(sale_date) as first_sale_date,
        max(sale_date) as last_sale_date,
        min(store_id) as min_store_id,
        max(store_id) as max_store_id
    from dashboard_sales
    group by invoice_id
),

{%- if stored is not none %}

built as (
    select invoice_id, first_sale_date, last_sale_date, min_store_id, max_store_id
    from {{ this }}
    {%- if invoices | length <= touched_keys_limit() %}
    where {{ in_strings('invoice_id', invoices) }}
    {%- endif %}
),

merged as (
    {#- least/greatest of the bounds held and the changed lines' (min/max over both sets
        of lines: coalesce, as least() of a null is null) #}
    select
        changed.invoice_id,
        {%- for column, pick in [('first_sale_date', 'least'), ('last_sale_date', 'greatest'),
                                 ('min_store_id', 'least'), ('max_store_id', 'greatest')] %}
        {{ pick }}(coalesce(changed.{{ column }}, built.{{ column }}),
                   coalesce(built.{{ column }}, changed.{{ column }})) as {{ column }}
        {{- ',' if not loop.last }}
        {%- endfor %}
    from changed
    left join built on changed.invoice_id = built.invoice_id
),
{%- else %}

merged as (
    select * from changed
),
{%- endif %}

final as (
    select
        invoice_id,
        first_sale_date,
        last_sale_date,
        min_store_id,
        max_store_id,
        coalesce(first_sale_date <> last_sale_date or min_store_id <> max_store_id, false)
            as is_split
    from merged
)

select * from final
