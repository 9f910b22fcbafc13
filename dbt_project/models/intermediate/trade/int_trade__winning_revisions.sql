-- One row per trade key: the highest revision wins; at equal revision the later-loaded
-- file wins (load ids grow in load order: file name order within a night, then nights).
--
-- Incremental: a night recomputes only the keys it can have changed (macros/incremental_winners.sql);
-- `dbt build --full-refresh` gives the same rows.
{%- set key = ['year', 'reporter_iso3', 'partner_iso3', 'flow', 'hs_version', 'hs6'] %}
{%- set columns = [
    'load_id', 'file_name', 'source_row', 'year', 'reporter_iso3', 'partner_iso3', 'flow', 'hs_version', 'hs6',
    'trade_value_usd', 'net_weight_kg', 'revision', 'is_world_aggregate'
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
        post_hook=["{{ delete_stale_winners('trade') }}"],
    )
}}

with

-- Not materialised: on a night several CTEs read it, each for a few rows (an index lookup).
records as not materialized (
    select * from {{ ref('int_trade__current_records') }}
),

{{ incremental_candidates('records', key, columns, 'trade') }}

ranked as (
    select
        candidates.*,
        row_number() over (
            partition by
                candidates.year, candidates.reporter_iso3, candidates.partner_iso3, candidates.flow,
                candidates.hs_version, candidates.hs6
            order by candidates.revision desc, candidates.load_id desc, candidates.source_row desc
        ) as rank_in_key
    from candidates
),

final as (
    select
        load_id,
        file_name,
        source_row,
        year,
        reporter_iso3,
        partner_iso3,
        flow,
        hs_version,
        hs6,
        trade_value_usd,
        net_weight_kg,
        revision,
        is_world_aggregate,
        {{ newest_load('trade') }} as seen_through_load_id
    from ranked
    where rank_in_key = 1
)

select * from final
