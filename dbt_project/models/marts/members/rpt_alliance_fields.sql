with

members as (
    select * from {{ ref('int_members__current_members') }}
),

member_fields as (
    select
        members.snapshot_date,
        members.member_id,
        field_name
    from members
    cross join lateral unnest(members.fields) as field_name
),

final as (
    select
        snapshot_date as as_of_date,
        field_name as field,
        count(distinct member_id)::bigint as active_members
    from member_fields
    group by snapshot_date, field_name
)

select * from final
