{#-
    Winner tables that a night updates incrementally (int_trade__winning_revisions,
    int_recycling__winning_tickets).

    incremental_candidates: the CTE `candidates`, every current row of the keys a night can
    have changed: keys of rows from loads newer than any the table has seen, and keys whose
    winning row came from a load that is no longer current (superseded). On a full build,
    every current row.

    delete_stale_winners: post-hook removing keys left with no current row at all.

    newest_load: the newest load of the feed in the ledger, whatever its status, stamped on every
    row a night (re)computes as seen_through_load_id. It grows with every ledger row, also when
    the only change of a night is a re-drop with no valid row that supersedes an older load, so
    the facts built from these tables see every rewritten row (macros/incremental_facts.sql).
-#}
{% macro incremental_candidates(records, key_columns, feed) -%}
    {%- if is_incremental() %}
    seen as (
        select coalesce(max(seen_through_load_id), 0) as load_id from {{ this }}
    ),

    touched as (
        select distinct
            {% for column in key_columns %}{{ records }}.{{ column }}{{ "," if not loop.last }}
            {% endfor %}
        from {{ records }}
        where {{ records }}.load_id > (select seen.load_id from seen)
        union
        select
            {% for column in key_columns %}previous.{{ column }}{{ "," if not loop.last }}
            {% endfor %}
        from {{ this }} as previous
        where previous.load_id in (
            select stale.load_id from {{ source('audit', 'load_ledger') }} as stale
            where stale.feed = '{{ feed }}' and stale.status <> 'loaded'
        )
    ),

    candidates as (
        select {{ records }}.*
        from {{ records }}
        inner join touched
            on
                {% for column in key_columns %}{{ records }}.{{ column }} = touched.{{ column }}
                {{ "and " if not loop.last }}{% endfor %}
    ),
    {%- else %}
    candidates as (
        select * from {{ records }}
    ),
    {%- endif %}
{%- endmacro %}


{% macro delete_stale_winners(feed) -%}
    delete from {{ this }}
    where load_id not in ({{ current_loads(feed) }})
{%- endmacro %}


{% macro newest_load(feed) -%}
    (
        select coalesce(max(ledger.load_id), 0)
        from {{ source('audit', 'load_ledger') }} as ledger
        where ledger.feed = '{{ feed }}'
    )
{%- endmacro %}
