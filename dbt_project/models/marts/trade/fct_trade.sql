-- Incremental: a night takes only the winners rewritten since this table's watermark
-- (macros/incremental_facts.sql); `dbt build --full-refresh` gives the same rows.
-- depends_on: {{ ref('stg_audit__load_ledger') }}  (a superseded file, in the post-hook)
{%- set key = ['year', 'reporter_iso3', 'partner_iso3', 'flow', 'hs_version', 'hs6'] %}
{#- The seeds it joins, whose rows are part of its digest. #}
{%- set seeds = ['hs_green_goods'] %}
{%- set inputs_digest = fact_inputs_digest(seeds) %}
{{
    config(
        materialized='incremental',
        unique_key=key,
        merge_exclude_columns=key,
        post_hook=[
            "{{ fact_deletions(ref('int_trade__winning_revisions'), " ~ key | string ~ ", 'not live.is_world_aggregate', 'trade', " ~ seeds | string ~ ") }}",
            "{{ record_fact_watermark(ref('int_trade__winning_revisions'), " ~ seeds | string ~ ") }}",
        ],
    )
}}

with

winners as (
    select * from {{ ref('int_trade__winning_revisions') }}
    where
        not is_world_aggregate
    {% if is_incremental() -%}
        and seen_through_load_id > {{ fact_watermark(inputs_digest) }}
    {%- endif %}
),

green_goods as (
    select * from {{ ref('hs_green_goods') }}
),

final as (
    select
        winners.year,
        winners.reporter_iso3,
        winners.partner_iso3,
        winners.flow,
        winners.hs_version,
        winners.hs6,
        green_goods.green_category,
        winners.trade_value_usd,
        winners.net_weight_kg,
        winners.revision,
        winners.file_name as source_file,
        winners.source_row
    from winners
    left join green_goods
        on
            winners.hs_version = green_goods.hs_version
            and winners.hs6 = green_goods.hs6
)

select * from final
