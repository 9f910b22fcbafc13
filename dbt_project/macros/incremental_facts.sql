{#-
    Fact tables that a night updates incrementally from their winner tables (fct_trade from
    int_trade__winning_revisions, fct_recycling_tickets from int_recycling__winning_tickets).

    A fact's watermark is the newest `seen_through_load_id` of its winners when the fact was
    last built. It is kept in staging.fact_watermarks under the table's oid, not its name:
    publishing swaps the names of marts and marts_build, so the table in marts_build is the one
    published the night before last, and its watermark must travel with it. Next to the
    watermark, a digest of everything else that decides the fact's rows (the model's own SQL
    and the seeds it joins): when it differs, or no watermark is found, or the winners rewritten
    since the watermark are too many to rewrite key by key, the night rebuilds the fact.

    An incremental night then takes the winners rewritten since the watermark (merged on the key:
    a revised fact is updated in place, see macros/table_storage.sql), deletes facts whose key has
    no live winner any more (a VOID ticket, a key of a superseded file), and records the new
    watermark.
-#}

{% macro fact_watermarks() -%}
    staging.fact_watermarks
{%- endmacro %}


{% macro create_fact_watermarks() -%}
    create table if not exists {{ fact_watermarks() }} (
        relation_oid oid primary key,
        built_as text not null, -- the name at the last build (publishing renames its schema)
        through_load_id bigint not null,
        inputs_digest text not null,
        built_at timestamptz not null default now()
    )
{%- endmacro %}


{#- facts: a fact the model aggregates (macros/incremental_aggregates.sql); its recorded digest
    stands for its own definition and seeds, which decide its rows as much as the model's do. -#}
{% macro fact_inputs_digest(seeds, facts=none) -%}
    md5(concat_ws(
        '|',
        '{{ model.checksum.checksum }}'
        {%- for seed in seeds %},
        (select string_agg(seed_row::text, ',' order by seed_row::text) from {{ seed }} as seed_row)
        {%- endfor %}
        {%- if facts is not none %},
        coalesce((
            select facts_mark.inputs_digest
            from {{ fact_watermarks() }} as facts_mark
            where facts_mark.relation_oid = to_regclass('{{ facts.include(database=False) }}')::oid
        ), 'no digest')
        {%- endif %}
    ))
{%- endmacro %}


{#- A planner_constant (the planner then uses the winners' index on seen_through_load_id), looked
    up once per build of the fact.
    -1, and the night rebuilds the fact (macros/nightly_rebuild.sql), when there is no watermark
    for the fact's definition or the winners rewritten since the watermark are more than
    1/rebuild_share of the rows of rows_of (the fact itself unless named); the table is counted
    only up to what decides. With superseded_feed, also when a file of that feed was superseded
    since the watermark: its winners are gone without a trace in the winner table (a fact finds
    them by comparing itself with the winners, an aggregate of facts cannot). -#}
{% macro fact_watermark(winners, inputs_digest, rows_of=none, superseded_feed=none) -%}
    {%- set lookup -%}
        with

        mark as (
            select max(watermark.through_load_id) as through_load_id
            from {{ fact_watermarks() }} as watermark
            where
                watermark.relation_oid = '{{ this.include(database=False) }}'::regclass::oid
                and watermark.inputs_digest = {{ inputs_digest }}
        ),

        rewritten as (
            select
                mark.through_load_id,
                (
                    select count(*) from {{ winners }} as winner
                    where winner.seen_through_load_id > mark.through_load_id
                ) * {{ rebuild_share() }} as rows_times_share
            from mark
        )

        select
            case
                when rewritten.through_load_id is null then -1
                {%- if superseded_feed is not none %}
                when {{ superseded_since(superseded_feed, 'rewritten.through_load_id') }} then -1
                {%- endif %}
                when {{ exceeds_rows_of('rewritten.rows_times_share', rows_of if rows_of is not none else this) }} then -1
                else rewritten.through_load_id
            end
        from rewritten
    {%- endset -%}
    {#- A table built before watermarks existed has none: every key is recomputed. -#}
    {%- set kept = planner_constant("select to_regclass('" ~ fact_watermarks() ~ "') is not null") | trim != 'False' -%}
    {{ planner_constant(lookup, per_node=True) if kept else -1 }}
{%- endmacro %}


{% macro record_fact_watermark(winners, inputs_digest) -%}
    insert into {{ fact_watermarks() }} (relation_oid, built_as, through_load_id, inputs_digest)
    select
        '{{ this.include(database=False) }}'::regclass::oid,
        '{{ this.include(database=False) }}',
        coalesce(max(winners.seen_through_load_id), 0),
        {{ inputs_digest }}
    from {{ winners }} as winners
    on conflict (relation_oid) do update set
        built_as = excluded.built_as,
        through_load_id = excluded.through_load_id,
        inputs_digest = excluded.inputs_digest,
        built_at = now()
{%- endmacro %}


{#- Whether a file of `feed` was superseded by a load newer than `load_id` (an SQL expression):
    the one way winners leave their table without a trace in it. -#}
{% macro superseded_since(feed, load_id) -%}
    exists (
        select 1
        from {{ source('audit', 'load_ledger') }} as gone
        inner join {{ source('audit', 'load_ledger') }} as newer
            on newer.feed = gone.feed and newer.file_name = gone.file_name and newer.load_id > gone.load_id
        where gone.feed = '{{ feed }}' and gone.status = 'superseded' and newer.load_id > {{ load_id }}
    )
{%- endmacro %}


{% macro forget_dropped_fact_watermarks() -%}
    delete from {{ fact_watermarks() }}
    where relation_oid not in (select pg_class.oid from pg_class)
{%- endmacro %}


{#- After the merge every live winner has its fact; what is left is facts whose key has no
    live winner any more. A key loses its live winner in one of two ways:
      * its winner was rewritten since the watermark and is not live (a VOID ticket): found
        through the winners' index on seen_through_load_id, in proportion to the night;
      * its winner row was deleted because the load it came from was superseded (a corrected
        re-drop of the same file name). Only then, or with no watermark to go by, the fact is
        compared with its winners in full: an anti-join, and only when the row counts differ.
    A load leaves the warehouse in no other way (publish is the only writer of ledger
    statuses), so on an ordinary night neither table is scanned. -#}
{% macro delete_facts_without_live_winner(winners, key_columns, live_condition, feed, inputs_digest) -%}
    {#- A full refresh, or a first build, wrote exactly the live winners; no watermark means every
        key was recomputed, and only the full comparison applies. -#}
    {%- if is_incremental() %}
        {%- set watermark = fact_watermark(winners, inputs_digest) | trim | int %}
        {%- if watermark >= 0 %}
    delete from {{ this }} as fact
    using (
        select distinct {% for column in key_columns %}live.{{ column }}{{ ", " if not loop.last }}{% endfor %}
        from {{ winners }} as live
        where live.seen_through_load_id > {{ watermark }} and not ({{ live_condition }})
    ) as gone
    where
        {% for column in key_columns %}fact.{{ column }} = gone.{{ column }}{{ " and " if not loop.last }}{% endfor %};
        {%- endif %}

    delete from {{ this }} as fact
    where
        {% if watermark >= 0 -%}
        {{ superseded_since(feed, watermark) }}
        and {% endif -%}
        (select count(*) from {{ this }})
        <> (select count(*) from {{ winners }} as live where {{ live_condition }})
        and not exists (
            select 1
            from {{ winners }} as live
            where
                {{ live_condition }}
                {%- for column in key_columns %}
                and live.{{ column }} = fact.{{ column }}
                {%- endfor %}
        )
    {%- endif %}
{%- endmacro %}
