-- One row per ticket: the later-loaded version wins (a VOID version cancels it later on).
--
-- Incremental: a night recomputes only the tickets it can have changed (macros/incremental_winners.sql);
-- `dbt build --full-refresh` gives the same rows.
{%- set key = ['park_id', 'ticket_no'] %}
{%- set columns = [
    'load_id', 'file_name', 'source_row', 'park_id', 'ticket_no', 'enterprise_id', 'direction', 'segment',
    'material', 'weigh_in_at', 'weigh_out_at', 'gross_kg', 'tare_kg', 'deduction_kg', 'net_kg', 'hw_code',
    'manifest_no', 'origin_iso3', 'destination_iso3', 'status'
] %}
{#- Indexes: the key (the merge), load_id (stale winners), seen_through_load_id (the facts' reads). #}
{{
    config(
        materialized='incremental',
        unique_key=key,
        merge_exclude_columns=key,
        indexes=[
            {'columns': key, 'unique': True},
            {'columns': ['load_id']},
            {'columns': ['seen_through_load_id']},
        ],
        post_hook=["{{ delete_stale_winners('recycling') }}"],
    )
}}

with

-- Not materialised: on a night several CTEs read it, each for a few rows (an index lookup).
tickets as not materialized (
    select * from {{ ref('int_recycling__current_tickets') }}
),

{{ incremental_candidates('tickets', key, columns, 'recycling') }}

ranked as (
    select
        candidates.*,
        row_number() over (
            partition by candidates.park_id, candidates.ticket_no
            order by candidates.load_id desc, candidates.source_row desc
        ) as rank_in_key
    from candidates
),

final as (
    select
        load_id,
        file_name,
        source_row,
        park_id,
        ticket_no,
        enterprise_id,
        direction,
        segment,
        material,
        weigh_in_at,
        weigh_out_at,
        gross_kg,
        tare_kg,
        deduction_kg,
        net_kg,
        hw_code,
        manifest_no,
        origin_iso3,
        destination_iso3,
        status,
        {{ newest_load('recycling') }} as seen_through_load_id
    from ranked
    where rank_in_key = 1
)

select * from final
