{#-
    Report tables that aggregate a fact by year (rpt_country_green_trade over fct_trade). Rebuilt
    in full, such a table reads the whole history every night (5 years of trade: 5M facts for 70
    rows), though a night rarely changes more than a year or two of it.

    The fact's key holds the year, so a fact row changes only with a winner of the same year: a
    night recomputes the years of the winners rewritten since the table's watermark and keeps the
    others. A recomputed year is replaced whole (deleted, then its rows inserted), so a group that
    lost its last fact goes with it. The table is rebuilt (macros/nightly_rebuild.sql) when:
      * no watermark was recorded for its inputs: its own SQL, the seeds it joins and the fact's
        recorded digest (the fact's SQL and seeds, which decide its rows as much as the model's);
      * a file of the feed was superseded since the watermark: the keys only the old file had
        leave the fact without a trace in the winner table;
      * the winners rewritten since the watermark are more than a tenth of the fact's rows.
    The watermark is kept like the facts' (staging.fact_watermarks, under the table's oid), since
    publishing swaps marts and marts_build the same way.

    A model opts in with `meta: {night_reads: {facts: <fact>, winners: <its winner table>,
    feed: <their feed>, seeds: [...]}}`; the macros read what they need from it.
-#}

{% macro _aggregate_reads() -%}
    {%- set reads = config.get('meta')['night_reads'] -%}
    {%- set seeds = [] -%}
    {%- for seed in reads.get('seeds', []) -%}
        {%- do seeds.append(ref(seed)) -%}
    {%- endfor -%}
    {{ return({
        'winners': ref(reads['winners']),
        'facts': ref(reads['facts']),
        'feed': reads['feed'],
        'digest': fact_inputs_digest(seeds, ref(reads['facts'])),
    }) }}
{%- endmacro %}


{#- The watermark (fact_watermark), -1 when the table is to be rebuilt. -#}
{% macro aggregate_watermark() -%}
    {%- set reads = _aggregate_reads() -%}
    {{ fact_watermark(reads.winners, reads.digest, rows_of=reads.facts, superseded_feed=reads.feed) }}
{%- endmacro %}


{#- The years an incremental night recomputes, as an integer[] literal, looked up once per build
    of the model (its SQL and its pre-hook act on the same years). In a dbt unit test, where
    there are no tables to look them up in, a subquery over the given winners. -#}
{% macro recomputed_years() -%}
    {%- set years = "coalesce(array_agg(distinct winner.year order by winner.year), '{}'::integer[])" -%}
    {%- set rewritten -%}
        from {{ _aggregate_reads().winners }} as winner
        where winner.seen_through_load_id > {{ aggregate_watermark() | trim | int }}
    {%- endset -%}
    {%- if execute and model.resource_type == 'model' -%}
        '{{ planner_constant("select " ~ years ~ "::text " ~ rewritten, per_node=True) | trim }}'::integer[]
    {%- else -%}
        (select {{ years }} {{ rewritten }})
    {%- endif -%}
{%- endmacro %}


{#- Pre-hook: an incremental night empties the years it recomputes (the model inserts them). -#}
{% macro delete_recomputed_years() -%}
    {%- if is_incremental() %}
    delete from {{ this }} where year = any({{ recomputed_years() }})
    {%- endif %}
{%- endmacro %}


{#- Post-hook (rendered at parse time too, when the model's config is not there to read). -#}
{% macro record_aggregate_watermark() -%}
    {%- if execute -%}
        {%- set reads = _aggregate_reads() -%}
        {{ record_fact_watermark(reads.winners, reads.digest) }}
    {%- endif -%}
{%- endmacro %}
