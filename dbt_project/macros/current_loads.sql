{#- The loads of a feed whose rows are in the warehouse now (ledger status `loaded`).
    Staging models keep only their rows; the incremental winners drop rows of any other load. -#}
{% macro current_loads(feed) -%}
    select load_id from {{ source('audit', 'load_ledger') }}
    where feed = '{{ feed }}' and status = 'loaded'
{%- endmacro %}
