with

source as (
    select * from {{ source('members', 'members') }}
),

ledger as (
    select load_id from {{ source('audit', 'load_ledger') }}
    where status = 'loaded'
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
        source.fields as fields_raw,
        source.joined_on
    from source
    inner join ledger on source.load_id = ledger.load_id
)

select * from final
