with

source as (
    select * from {{ source('raw', 'recycling') }}
),

final as (
    select
        source.load_id,
        source.file_name,
        source.source_row,
        source.park_id,
        source.ticket_no,
        source.enterprise_id,
        source.direction,
        source.segment,
        source.material,
        source.weigh_in_at,
        source.weigh_out_at,
        source.gross_kg,
        source.tare_kg,
        coalesce(source.deduction_kg, 0) as deduction_kg,
        source.net_kg,
        source.hw_code,
        source.manifest_no,
        source.origin_iso3,
        source.destination_iso3,
        source.status
    from source
)

select * from final
