{#- Sale lines of `sales` with their shipment from `shipments` (relations or CTE names
    of stg_sales' and stg_shipments' columns) and the money derived from them: the
    select of int_sales__shipped, shared with fct_sales, which on BigQuery joins only
    the recent rows of both (models/marts/fct_sales.sql). -#}
{% macro sales_shipped(sales, shipments) -%}
    select
        {{ sales }}.invoice_line_id,
        {{ sales }}.invoice_id,
        {{ sales }}.sale_date,
        {{ sales }}.store_id,
        {{ sales }}.item_id,
        {{ sales }}.vendor_id,
        {{ sales }}.category_id,
        {{ sales }}.employee_id,
        {{ sales }}.pack,
        {{ sales }}.bottle_volume_ml,
        {{ sales }}.bottle_cost,
        {{ sales }}.bottle_retail,
        {{ sales }}.bottles_sold,
        {{ sales }}.sale_dollars,
        {{ sales }}.volume_liters,
        {{ money(sales ~ '.bottles_sold * ' ~ sales ~ '.bottle_cost') }} as cost_dollars,
        {{ money(sales ~ '.sale_dollars - ' ~ sales ~ '.bottles_sold * ' ~ sales
                 ~ '.bottle_cost') }} as gross_margin,
        {{ shipments }}.ship_date,
        {{ dbt.datediff(sales ~ '.sale_date', shipments ~ '.ship_date', 'day') }} as days_to_ship,
        {{ shipments }}.shipping_cost,
        {{ shipments }}.invoice_line_id is not null as is_shipped,
        {{ sales }}.updated_at as sale_updated_at,
        {{ shipments }}.updated_at as shipment_updated_at
    from {{ sales }}
    left join {{ shipments }}
        on {{ sales }}.invoice_line_id = {{ shipments }}.invoice_line_id
{%- endmacro %}
