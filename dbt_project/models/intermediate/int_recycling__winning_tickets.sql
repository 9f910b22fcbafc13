-- One row per ticket: the later-loaded version wins (a VOID version cancels it later on).
with

tickets as (
    select * from {{ ref('stg_recycling__tickets') }}
),

ranked as (
    select
        tickets.*,
        row_number() over (
            partition by tickets.park_id, tickets.ticket_no
            order by tickets.load_id desc, tickets.source_row desc
        ) as rank_in_key
    from tickets
),

final as (
    select * from ranked
    where rank_in_key = 1
)

select * from final
