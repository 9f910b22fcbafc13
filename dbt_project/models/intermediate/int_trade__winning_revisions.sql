-- One row per trade key: the highest revision wins; at equal revision the later-loaded
-- file wins (load ids grow in load order: file name order within a night, then nights).
with

records as (
    select * from {{ ref('stg_trade__trade_records') }}
),

ranked as (
    select
        records.*,
        row_number() over (
            partition by
                records.year, records.reporter_iso3, records.partner_iso3, records.flow, records.hs_version, records.hs6
            order by records.revision desc, records.load_id desc, records.source_row desc
        ) as rank_in_key
    from records
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
        is_world_aggregate
    from ranked
    where rank_in_key = 1
)

select * from final
