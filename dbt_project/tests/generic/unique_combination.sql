{#-
    No two rows share these columns. A valid unique index on exactly these columns (a primary
    key is one) already proves it, and then the scan is skipped: the condition is a constant the
    planner checks once, before reading the table. Without that proof the model is scanned.
-#}
{% test unique_combination(model, combination) %}
    select {{ combination | join(', ') }}
    from {{ model }}
    where not exists (
        select 1
        from pg_catalog.pg_index as proof
        where
            proof.indrelid = to_regclass('{{ model.include(database=False) }}')
            and proof.indisunique
            and proof.indisvalid
            and proof.indpred is null
            and proof.indexprs is null
            and (
                select array_agg(proof_column.attname::text order by proof_column.attname::text)
                from pg_catalog.pg_attribute as proof_column
                where proof_column.attrelid = proof.indrelid and proof_column.attnum = any(proof.indkey)
            ) = array[{% for column in combination | sort %}'{{ column }}'{{ ", " if not loop.last }}{% endfor %}]::text[]
    )
    group by {{ combination | join(', ') }}
    having count(*) > 1
{% endtest %}
