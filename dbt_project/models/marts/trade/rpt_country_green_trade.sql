-- Green trade by reporting country and year; intra-SCO when the partner was an SCO member on
-- 31 December of that year.

with

green_trade as (
    select * from {{ ref('fct_trade') }}
    where
        green_category is not null
),

sco_members as (
    select * from {{ ref('sco_states') }}
    where status = 'member'
),

-- Summed per partner first (exact: numeric), so the membership test runs once per year,
-- reporter, partner and flow rather than once per fact.
by_partner as (
    select
        year,
        reporter_iso3,
        partner_iso3,
        flow,
        sum(trade_value_usd) as trade_value_usd
    from green_trade
    group by year, reporter_iso3, partner_iso3, flow
),

classified as (
    select
        by_partner.year,
        by_partner.reporter_iso3 as country_iso3,
        by_partner.flow,
        by_partner.trade_value_usd,
        exists(
            select 1
            from sco_members
            where
                sco_members.iso3 = by_partner.partner_iso3
                and sco_members.valid_from <= make_date(by_partner.year, 12, 31)
                and (sco_members.valid_to is null or sco_members.valid_to >= make_date(by_partner.year, 12, 31))
        ) as partner_is_sco_member
    from by_partner
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
