-- Tonnes per park, local calendar month of weigh-out, and segment.
with

tickets as (
    select * from {{ ref('fct_recycling_tickets') }}
),

final as (
    select
        park_id,
        local_month as month,
        segment,
        coalesce(sum(net_t) filter (where direction = 'IN'), 0)::numeric as inbound_t,
        coalesce(sum(net_t) filter (where direction = 'OUT'), 0)::numeric as outbound_t,
        count(*)::bigint as tickets,
        coalesce(sum(net_t) filter (where hw_code is not null), 0)::numeric as hazardous_t
    from tickets
    group by park_id, local_month, segment
)

select * from final
