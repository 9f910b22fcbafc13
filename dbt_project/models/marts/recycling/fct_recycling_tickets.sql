-- Incremental: a night takes only the winners rewritten since this table's watermark
-- (macros/incremental_facts.sql); `dbt build --full-refresh` gives the same rows.
-- depends_on: {{ ref('stg_audit__load_ledger') }}  (a superseded file, in the post-hook)
{%- set key = ['park_id', 'ticket_no'] %}
{#- The seeds it joins, whose rows are part of its digest. #}
{%- set seeds = ['parks'] %}
{%- set inputs_digest = fact_inputs_digest(seeds) %}
{{
    config(
        materialized='incremental',
        unique_key=key,
        merge_exclude_columns=key,
        post_hook=[
            "{{ fact_deletions(ref('int_recycling__winning_tickets'), " ~ key | string ~ ", \"live.status <> 'VOID'\", 'recycling', " ~ seeds | string ~ ") }}",
            "{{ record_fact_watermark(ref('int_recycling__winning_tickets'), " ~ seeds | string ~ ") }}",
        ],
    )
}}

with

winners as (
    select * from {{ ref('int_recycling__winning_tickets') }}
    where
        status <> 'VOID'
    {% if is_incremental() -%}
        and seen_through_load_id > {{ fact_watermark(inputs_digest) }}
    {%- endif %}
),

parks as (
    select * from {{ ref('parks') }}
),

final as (
    select
        winners.park_id,
        winners.ticket_no,
        winners.enterprise_id,
        winners.direction,
        winners.segment,
        winners.material,
        winners.weigh_in_at,
        winners.weigh_out_at,
        winners.gross_kg,
        winners.tare_kg,
        winners.deduction_kg,
        winners.net_kg,
        winners.hw_code,
        winners.manifest_no,
        winners.origin_iso3,
        winners.destination_iso3,
        winners.status,
        round(winners.net_kg / 1000, 6) as net_t,
        date_trunc('month', winners.weigh_out_at at time zone parks.timezone)::date as local_month,
        winners.file_name as source_file,
        winners.source_row
    from winners
    inner join parks on winners.park_id = parks.park_id
)

select * from final
