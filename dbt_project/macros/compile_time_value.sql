{#-
    The value of a one-value query, looked up when the model compiles, so the planner sees a
    constant and can estimate a range on an index. A dbt unit test has no tables behind its
    inputs: there the query stays in the SQL as a scalar subquery, with the same result.
-#}
{% macro compile_time_value(query) -%}
    {%- if execute and model.resource_type == 'model' -%}
        {{ run_query(query).columns[0].values()[0] }}
    {%- else -%}
        ({{ query }})
    {%- endif -%}
{%- endmacro %}
