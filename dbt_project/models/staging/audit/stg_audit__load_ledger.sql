with

source as (
    select * from {{ source('audit', 'load_ledger') }}
),

final as (
    select
        load_id,
        feed,
        file_name,
        status,
        loaded_at
    from source
)

select * from final
