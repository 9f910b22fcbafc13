{#-
    No two rows share these columns. A valid unique index on exactly these columns (with no
    predicate or expression; a primary key is one) already proves it, and then the scan is
    skipped: the condition is a constant the planner checks once, before reading the table.
    A view, or a table without such an index, is scanned and grouped.
-#}
{% test unique_combination(model, combination) %}
    select {{ combination | join(', ') }}
    from {{ model }}
    where not {{ enforced_by_unique_index(model, combination) }}
    group by {{ combination | join(', ') }}
    having count(*) > 1
{% endtest %}
