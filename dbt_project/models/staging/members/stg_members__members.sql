with

source as (
    select * from {{ source('raw', 'members') }}
),

final as (
    select
        source.load_id,
        source.file_name,
        source.source_row,
        source.snapshot_date,
        source.member_id,
        source.name_en,
        source.name_zh,
        source.member_type,
        source.country_iso3,
        array(
            select distinct btrim(field_name)
            from unnest(string_to_array(source.fields, ';')) as field_name
            order by 1
        ) as fields,
        source.joined_on
    from source
)

select * from final
