with

source as (
    select * from {{ source('raw', 'trade') }}
),

final as (
    select
        source.load_id,
        source.file_name,
        source.source_row,
        source.year,
        source.reporter_iso3,
        source.partner_iso3,
        source.flow,
        source.hs_version,
        source.hs6,
        source.trade_value_usd,
        source.net_weight_kg,
        source.revision,
        source.partner_iso3 = 'WLD' as is_world_aggregate
    from source
)

select * from final
