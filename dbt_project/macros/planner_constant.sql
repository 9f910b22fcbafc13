{#-
    The value of a one-value query, looked up when the model compiles, so the planner sees a
    constant (and can estimate a range on an index). A dbt unit test has no tables behind its
    inputs: there the query stays in the SQL as a scalar subquery, with the same result.

    per_node: the query runs once per node build however often the node asks (a night's rebuild
    decision is asked when the model compiles, by the materialization and by the hooks, and each
    time counted up to a tenth of a large table). dbt gives each node its own database session
    for its compile, build and hooks, and the value is kept in a setting of that session, named
    for the invocation and the query; the next node's session starts without it.
-#}
{% macro planner_constant(query, per_node=False) -%}
    {%- if execute and model.resource_type == 'model' -%}
        {%- if per_node -%}
            {%- set name = 'sco_green.constant_' ~ local_md5(invocation_id ~ query) -%}
            {%- set query -%}
                select coalesce(
                    nullif(current_setting('{{ name }}', true), ''),
                    set_config('{{ name }}', ({{ query }})::text, false)
                )
            {%- endset -%}
        {%- endif -%}
        {{ run_query(query).columns[0].values()[0] }}
    {%- else -%}
        ({{ query }})
    {%- endif -%}
{%- endmacro %}
