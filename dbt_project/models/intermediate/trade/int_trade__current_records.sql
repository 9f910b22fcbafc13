-- The rows of the loads that are current now (ledger status loaded): a superseded,
-- blocked or rolled-back load keeps its raw rows for the audit trail but leaves the marts.
with

records as (
    select * from {{ ref('stg_trade__trade_records') }}
),

current_loads as (
    select load_id from {{ ref('stg_audit__load_ledger') }}
    where feed = 'trade' and status = 'loaded'
),

final as (
    select records.*
    from records
    inner join current_loads on records.load_id = current_loads.load_id
)

select * from final
