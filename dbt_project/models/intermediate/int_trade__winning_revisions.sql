-- One row per trade key: the highest revision wins; at equal revision the later-loaded
-- file wins (load ids grow in load order: file name order within a night, then nights).
--
-- Incremental: a night recomputes only the keys it can have changed: keys of rows from
-- loads newer than any this table has seen, and keys whose winner came from a load that
-- is no longer current (superseded). Keys left with no current row are removed after.
{{
    config(
        materialized='incremental',
        unique_key=['year', 'reporter_iso3', 'partner_iso3', 'flow', 'hs_version', 'hs6'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook=[
            "delete from {{ this }} where load_id not in (select load_id from {{ source('audit', 'load_ledger') }} where feed = 'trade' and status = 'loaded')"
        ]
    )
}}

with

records as (
    select * from {{ ref('stg_trade__trade_records') }}
),

{% if is_incremental() %}
    seen as (
        select coalesce(max(seen_through_load_id), 0) as load_id from {{ this }}
    ),

    touched as (
        select distinct
            records.year,
            records.reporter_iso3,
            records.partner_iso3,
            records.flow,
            records.hs_version,
            records.hs6
        from records
        where records.load_id > (select seen.load_id from seen)
        union
        select
            previous.year,
            previous.reporter_iso3,
            previous.partner_iso3,
            previous.flow,
            previous.hs_version,
            previous.hs6
        from {{ this }} as previous
        where not exists (select 1 from records where records.load_id = previous.load_id)
    ),

    candidates as (
        select records.*
        from records
        inner join touched
            on
                records.year = touched.year
                and records.reporter_iso3 = touched.reporter_iso3
                and records.partner_iso3 = touched.partner_iso3
                and records.flow = touched.flow
                and records.hs_version = touched.hs_version
                and records.hs6 = touched.hs6
    ),
{% else %}
    candidates as (
        select * from records
    ),
{% endif %}

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
        (select coalesce(max(records.load_id), 0) from records) as seen_through_load_id
    from ranked
    where rank_in_key = 1
)

select * from final
