{#-
    What the catalog proves, so data tests need not scan for it: a unique index on a column set,
    a NOT NULL column. Each is an uncorrelated condition, evaluated once per test; on a view, or
    a table the database does not constrain, it is false and the test scans as usual.
-#}

{% macro enforced_by_unique_index(relation, columns) -%}
    exists (
        select 1
        from pg_catalog.pg_index as proof
        where
            proof.indrelid = to_regclass('{{ relation.include(database=False) }}')
            and proof.indisunique
            and proof.indisvalid
            and proof.indpred is null
            and proof.indexprs is null
            and (
                select array_agg(proof_column.attname::text order by proof_column.attname::text)
                from pg_catalog.pg_attribute as proof_column
                where proof_column.attrelid = proof.indrelid and proof_column.attnum = any(proof.indkey)
            ) = array[{% for column in columns | sort %}'{{ column }}'{{ ", " if not loop.last }}{% endfor %}]::text[]
    )
{%- endmacro %}


{% macro enforced_not_null(relation, column) -%}
    exists (
        select 1
        from pg_catalog.pg_attribute as proof_column
        where
            proof_column.attrelid = to_regclass('{{ relation.include(database=False) }}')
            and proof_column.attname = '{{ column }}'
            and proof_column.attnotnull
    )
{%- endmacro %}


{#- dbt's not_null test (dispatched to the root project first), with the catalog's proof. -#}
{% macro postgres__test_not_null(model, column_name) -%}
    {%- set column_list = '*' if should_store_failures() else column_name %}
    select {{ column_list }}
    from {{ model }}
    where {{ column_name }} is null and not {{ enforced_not_null(model, column_name) }}
{%- endmacro %}
