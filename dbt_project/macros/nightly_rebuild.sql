{#-
    A night rebuilds an incremental table, the way `dbt build --full-refresh` does (a new table
    swapped in), when what it would rewrite key by key is more than a tenth of the table. Deleting
    and inserting by key cost about 17 us a row; a rebuild about 2.5 us a row of the whole table
    (5M trade facts: 85 s against 13 s), so one in ten was about where the two crossed. The tables
    now merge on the key, cheaper a row than deleting and inserting, so the crossing has moved up
    (not measured again; a tenth stays a safe choice). Such nights: a re-drop of the whole
    history, the two nights after a full refresh restamped every winner (publishing keeps two
    copies of the facts), a changed model or seed of a fact.

    A model opts in with `meta: {night_reads: ...}`, naming what its night reads:
      * a winner table, `{records: <staging model>}`: rebuilt when more current rows arrived
        since the newest load it has seen than a tenth of its rows;
      * a fact, `{winners: <winner model>, seeds: [<seed>, ...]}`: rebuilt when fact_watermark is
        -1 (no watermark for its definition, or more winners rewritten since the watermark than
        a tenth of its rows; macros/incremental_facts.sql);
      * an aggregate of a fact, `{facts: <fact model>, winners: <its winner model>, feed: <their
        feed>, seeds: [...]}`: the same, with the fact's recorded digest in its own, a tenth of
        the fact's rows, and a superseded file of the feed (macros/incremental_aggregates.sql).
    Every count stops at what decides, so an ordinary night reads a few times its own rows.

    The decision is asked when the model compiles (is_incremental), by the materialization and
    by the hooks; it is looked up once per build of the model (planner_constant's per_node), so
    all of them act on the answer the compiled SQL was written for. Looked up again it would be
    the same before the build writes (a build is the only writer of the table, and raw changes
    only between builds), and the hooks are correct on either answer after it wrote.
-#}

{#- dbt's own should_full_refresh (root project macros take precedence), with the night's
    rebuild for the models that opt in. -#}
{% macro should_full_refresh() %}
    {%- set configured = config.get('full_refresh') -%}
    {%- if configured is none -%}
        {%- set configured = flags.FULL_REFRESH -%}
    {%- endif -%}
    {%- set reads = (config.get('meta') or {}).get('night_reads') -%}
    {%- if configured or not reads or not execute or model.resource_type != 'model'
        or load_cached_relation(this) is none -%}
        {{ return(configured) }}
    {%- endif -%}
    {%- if reads.get('records') -%}
        {{ return(winners_rebuild_due(ref(reads['records']))) }}
    {%- endif -%}
    {%- if reads.get('facts') -%}
        {{ return((aggregate_watermark() | trim | int) < 0) }}
    {%- endif -%}
    {%- set seeds = [] -%}
    {%- for seed in reads.get('seeds', []) -%}
        {%- do seeds.append(ref(seed)) -%}
    {%- endfor -%}
    {{ return((fact_watermark(ref(reads['winners']), fact_inputs_digest(seeds)) | trim | int) < 0) }}
{% endmacro %}


{% macro rebuild_share() -%}
    10
{%- endmacro %}


{#- Whether `rows_times_share` (a count of rows to rewrite times rebuild_share) is more than the
    rows of `relation`, which is counted only up to that number. -#}
{% macro exceeds_rows_of(rows_times_share, relation) -%}
    {{ rows_times_share }} > (select count(*) from (select from {{ relation }} limit {{ rows_times_share }}) as kept)
{%- endmacro %}


{#- More current rows newer than the newest load the winner table has seen than a tenth of its
    rows (raw's primary key starts with load_id: the count reads only the new rows). -#}
{% macro winners_rebuild_due(records_relation) -%}
    {%- set decision -%}
        with

        seen as (
            select coalesce(max(previous.seen_through_load_id), 0) as load_id
            from {{ this }} as previous
        ),

        arrived as (
            select count(*) * {{ rebuild_share() }} as rows_times_share
            from {{ records_relation }} as arrived_row
            where arrived_row.load_id > (select seen.load_id from seen)
        )

        select {{ exceeds_rows_of('arrived.rows_times_share', this) }}
        from arrived
    {%- endset -%}
    {{ return(planner_constant(decision, per_node=True) | trim | lower in ('true', 't')) }}
{%- endmacro %}
