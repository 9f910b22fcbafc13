with

members as (
    select * from {{ ref('int_members__current_members') }}
),

final as (
    select
        snapshot_date as as_of_date,
        country_iso3,
        member_type,
        count(*)::bigint as active_members
    from members
    group by snapshot_date, country_iso3, member_type
)

select * from final
