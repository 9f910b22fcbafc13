{#-
    No two rows share these columns. A valid unique index on exactly these columns (with no
    predicate or expression; a primary key is one) already proves it, and then the scan is
    skipped: the condition is a constant the planner checks once, before reading the table.
    For a view, `proved_by` names the relations it reads and the columns each is unique on
    (macros/catalog_proofs.sql: enforced_through_view). Without a proof the model is scanned
    and grouped.
-#}
{% test unique_combination(model, combination, proved_by=none) %}
    {%- set proofs = [enforced_by_unique_index(model, combination)] %}
    {%- if proved_by %}{% do proofs.append(enforced_through_view(model, proved_by)) %}{% endif %}
    select {{ combination | join(', ') }}
    from {{ model }}
    where not ({{ proofs | join(' or ') }})
    group by {{ combination | join(', ') }}
    having count(*) > 1
{% endtest %}
