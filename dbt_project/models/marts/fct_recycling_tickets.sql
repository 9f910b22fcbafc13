with

winners as (
    select * from {{ ref('int_recycling__winning_tickets') }}
    where status <> 'VOID'
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
