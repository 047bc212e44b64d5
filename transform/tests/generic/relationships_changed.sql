{#- dbt's `relationships`, for ledger-sized models: every row changed since the last
    complete build of `source_table` (macros/build_watermark.sql) must find its parent.
    Every row when there is no watermark. -#}
{% test relationships_changed(model, column_name, to, field, source_table,
                              changed_at='updated_at') %}

{%- set since = built_through(source_table) %}

with

children as (
    select {{ column_name }} as child_key
    from {{ model }}
    where {{ column_name }} is not null
    {%- if since is not none %}
        and {{ changed_at }} > {{ since }}
    {%- endif %}
),

parents as (
    select {{ field }} as parent_key
    from {{ to }}
)

select children.child_key
from children
left join parents
    on children.child_key = parents.parent_key
where parents.parent_key is null

{% endtest %}
