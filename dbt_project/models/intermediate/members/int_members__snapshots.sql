-- One row per current members snapshot file: a snapshot with no valid rows still says
-- that nobody is a member on that date.
with

ledger as (
    select * from {{ ref('stg_audit__load_ledger') }}
    where feed = 'members' and status = 'loaded'
),

final as (
    select
        load_id,
        file_name,
        to_date(substring(file_name from 'members_([0-9]{8})\.csv'), 'YYYYMMDD') as snapshot_date
    from ledger
    where file_name ~ '^members_[0-9]{8}\.csv$'
)

select * from final
