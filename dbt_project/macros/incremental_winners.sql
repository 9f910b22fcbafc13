{#-
    Winner tables that a night updates incrementally (int_trade__winning_revisions,
    int_recycling__winning_tickets).

    incremental_candidates: the CTE `candidates`, the rows the winner of a key a night can have
    changed is chosen from. On a full build, every current row. On a night:
      * rows of loads newer than any the table has seen, with the key's present winner: the
        present winner already beat every older current row of its key;
      * every current row of the keys whose winner came from a load that is no longer current
        (a superseded file): their winner must be chosen again from what is left.
    The first part reads only the new rows (raw's primary key starts with load_id) and the
    present winners of their keys (the table's unique index on the key), so a night costs in
    proportion to what it brought, not to the history. The newest load the table has seen is
    looked up when the model compiles (compile_time_value). `columns` are the record columns the
    model keeps (all but seen_through_load_id).

    delete_stale_winners: post-hook removing keys left with no current row at all.

    newest_load: the newest load of the feed in the ledger, whatever its status, stamped on every
    row a night (re)computes as seen_through_load_id. It grows with every ledger row, also when
    the only change of a night is a re-drop with no valid row that supersedes an older load, so
    the facts built from these tables see every rewritten row (macros/incremental_facts.sql).
-#}
{% macro incremental_candidates(records, key_columns, columns, feed) -%}
    {%- if is_incremental() %}
        {%- set seen = compile_time_value(
            "select coalesce(max(seen.seen_through_load_id), 0) from " ~ this ~ " as seen"
        ) %}
    stale_loads as (
        {{ stale_load_ids(feed) }}
    ),

    new_rows as (
        select {{ records }}.*
        from {{ records }}
        where {{ records }}.load_id > {{ seen }}
    ),

    -- In key order, so the present winners are read along the key index rather than all over it.
    new_keys as (
        select distinct {{ key_columns | join(', ') }}
        from new_rows
        order by {{ key_columns | join(', ') }}
    ),

    stale_keys as (
        select distinct
            {% for column in key_columns %}previous.{{ column }}{{ "," if not loop.last }}
            {% endfor %}
        from {{ this }} as previous
        -- The ledger itself, not the stale_loads CTE, so the planner sees how few stale loads
        -- there are and reads their rows through the load_id index.
        where previous.load_id in ({{ stale_load_ids(feed) }})
    ),

    candidates as (
        select {{ columns | join(', ') }} from new_rows
        union all
        select
            {% for column in columns %}previous.{{ column }}{{ "," if not loop.last }}
            {% endfor %}
        from {{ this }} as previous
        inner join new_keys
            on
                {% for column in key_columns %}previous.{{ column }} = new_keys.{{ column }}
                {{ "and " if not loop.last }}{% endfor %}
        where previous.load_id not in (select stale_loads.load_id from stale_loads)
        union all
        select
            {% for column in columns %}{{ records }}.{{ column }}{{ "," if not loop.last }}
            {% endfor %}
        from {{ records }}
        inner join stale_keys
            on
                {% for column in key_columns %}{{ records }}.{{ column }} = stale_keys.{{ column }}
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
    where load_id in ({{ stale_load_ids(feed) }})
{%- endmacro %}


{#- The feed's loads whose rows left the warehouse (superseded, rolled back): ledger status
    other than `loaded`. -#}
{% macro stale_load_ids(feed) -%}
    select stale.load_id from {{ ref('stg_audit__load_ledger') }} as stale
    where stale.feed = '{{ feed }}' and stale.status <> 'loaded'
{%- endmacro %}


{% macro newest_load(feed) -%}
    (
        select coalesce(max(ledger.load_id), 0)
        from {{ ref('stg_audit__load_ledger') }} as ledger
        where ledger.feed = '{{ feed }}'
    )
{%- endmacro %}
