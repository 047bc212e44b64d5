{#- dbt's `unique`, for ledger-sized models: the keys of the rows changed since the last
    complete build of `source_table` (macros/build_watermark.sql), counted over the
    whole model, so a new row that repeats an old key fails. Every key when there is
    no watermark. -#}
{% test unique_changed(model, column_name, source_table, changed_at='updated_at') %}

{%- set since = built_through(source_table) %}

select
    {{ column_name }} as unique_field,
    count(*) as n_records
from {{ model }}
where {{ column_name }} is not null
{%- if since is not none %}
    and {{ column_name }} in (
        select {{ column_name }} from {{ model }} where {{ changed_at }} > {{ since }}
    )
{%- endif %}
group by {{ column_name }}
having count(*) > 1

{% endtest %}
