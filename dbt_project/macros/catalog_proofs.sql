{#-
    What the catalog proves, so data tests need not scan for it: a unique index on a column set,
    a NOT NULL column, a CHECK constraint listing a column's accepted values. Each is an
    uncorrelated condition, evaluated once per test; on a view, or a table the database does not
    constrain, it is false and the test scans as usual.
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


{#- A validated CHECK constraint `column in (values)` on a text column, in exactly the form
    PostgreSQL deparses it to (`CHECK ((flow = ANY (ARRAY['M'::text, 'X'::text])))`): every row's
    value is then NULL or one of the values, in that order. Any other form (another order, a single
    value, a wider condition, a column of another type) is no proof, and the test scans. -#}
{% macro enforced_accepted_values(relation, column, values) -%}
    exists (
        select 1
        from pg_catalog.pg_constraint as proof
        inner join pg_catalog.pg_attribute as proof_column
            on proof_column.attrelid = proof.conrelid and proof_column.attnum = any(proof.conkey)
        where
            proof.conrelid = to_regclass('{{ relation.include(database=False) }}')
            and proof.contype = 'c'
            and proof.convalidated
            and cardinality(proof.conkey) = 1
            and proof_column.attname = '{{ column }}'
            and proof_column.atttypid = 'pg_catalog.text'::regtype
            and pg_catalog.pg_get_constraintdef(proof.oid) = (
                select
                    'CHECK ((' || quote_ident(proof_column.attname) || ' = ANY (ARRAY['
                    || string_agg(quote_literal(accepted.value) || '::text', ', ' order by accepted.position)
                    || '])))'
                from unnest(array[
                    {%- for value in values %}'{{ value | replace("'", "''") }}'{{ ", " if not loop.last }}{% endfor -%}
                ]::text []) with ordinality as accepted (value, position)
            )
    )
{%- endmacro %}


{#- dbt's accepted_values test (dispatched to the root project first), with the catalog's proof
    for quoted (text) values. -#}
{% macro postgres__test_accepted_values(model, column_name, values, quote=True) -%}
    with all_values as (
        select
            {{ column_name }} as value_field,
            count(*) as n_records
        from {{ model }}
        {%- if quote %}
        where not {{ enforced_accepted_values(model, column_name, values) }}
        {%- endif %}
        group by {{ column_name }}
    )

    select *
    from all_values
    where value_field not in (
        {%- for value in values %}
        {% if quote %}'{{ value }}'{% else %}{{ value }}{% endif %}{{ "," if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}


{#- A view returns at most one row per row of a relation it reads when every other relation it
    reads is unique on the columns the view joins it by. `proved_by` lists what the view reads,
    each `{source: [source_name, table_name]}` or `{ref: model_name}` with the `columns` it is
    unique on: for the relation the rows come from, the key under test; for a joined one, the
    join columns. The proof holds while the view reads exactly these relations (its rewrite
    rule's dependencies) and each keeps a unique index on its columns, so a new join, a dropped
    key or a view turned into a table falls back to the scan. What the catalog cannot show, and
    review must: that the joins are on exactly those columns. -#}
{% macro enforced_through_view(view, proved_by) -%}
    coalesce(
        (
            select coalesce(array_agg(distinct read.refobjid order by read.refobjid), '{}')
            from pg_catalog.pg_rewrite as view_rule
            inner join pg_catalog.pg_depend as read
                on
                    read.classid = 'pg_catalog.pg_rewrite'::regclass
                    and read.objid = view_rule.oid
                    and read.refclassid = 'pg_catalog.pg_class'::regclass
                    and read.refobjid <> view_rule.ev_class
            where view_rule.ev_class = to_regclass('{{ view.include(database=False) }}')
        ) = (
            select array_agg(distinct named.relation order by named.relation)
            from unnest(array[
                {%- for proof in proved_by %}
                to_regclass('{{ proof_relation(proof).include(database=False) }}')::oid
                {{- "," if not loop.last }}
                {%- endfor %}
            ]::oid []) as named (relation)
        )
        {%- for proof in proved_by %}
        and {{ enforced_by_unique_index(proof_relation(proof), proof.columns) }}
        {%- endfor %},
        false
    )
{%- endmacro %}


{% macro proof_relation(proof) -%}
    {{ return(source(*proof.source) if proof.source else ref(proof.ref)) }}
{%- endmacro %}
