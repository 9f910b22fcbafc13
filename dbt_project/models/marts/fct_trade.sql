with

winners as (
    select * from {{ ref('int_trade__winning_revisions') }}
    where not is_world_aggregate
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
