-- Green trade by reporting country and year; intra-SCO when the partner was an SCO
-- member on 31 December of that year.
with

green_trade as (
    select * from {{ ref('fct_trade') }}
    where green_category is not null
),

sco_members as (
    select * from {{ ref('sco_states') }}
    where status = 'member'
),

classified as (
    select
        green_trade.year,
        green_trade.reporter_iso3 as country_iso3,
        green_trade.flow,
        green_trade.trade_value_usd,
        exists(
            select 1
            from sco_members
            where
                sco_members.iso3 = green_trade.partner_iso3
                and sco_members.valid_from <= make_date(green_trade.year, 12, 31)
                and (sco_members.valid_to is null or sco_members.valid_to >= make_date(green_trade.year, 12, 31))
        ) as partner_is_sco_member
    from green_trade
),

final as (
    select
        year,
        country_iso3,
        coalesce(sum(trade_value_usd) filter (where flow = 'X'), 0)::numeric as exports_usd,
        coalesce(sum(trade_value_usd) filter (where flow = 'M'), 0)::numeric as imports_usd,
        coalesce(sum(trade_value_usd) filter (where flow = 'X' and partner_is_sco_member), 0)::numeric
            as intra_sco_exports_usd,
        coalesce(sum(trade_value_usd) filter (where flow = 'M' and partner_is_sco_member), 0)::numeric
            as intra_sco_imports_usd
    from classified
    group by year, country_iso3
)

select * from final
