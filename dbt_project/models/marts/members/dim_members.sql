with

versions as (
    select * from {{ ref('int_members__versions') }}
),

final as (
    select
        member_id,
        valid_from,
        name_en,
        member_type,
        country_iso3,
        fields,
        valid_to
    from versions
)

select * from final
