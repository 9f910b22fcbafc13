-- One row per ticket: the later-loaded version wins (a VOID version cancels it later on).
--
-- Incremental like int_trade__winning_revisions: only tickets of loads newer than any this
-- table has seen, or whose winning version came from a load that is no longer current.
{{
    config(
        materialized='incremental',
        unique_key=['park_id', 'ticket_no'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook=[
            "delete from {{ this }} where load_id not in (select load_id from {{ source('audit', 'load_ledger') }} where feed = 'recycling' and status = 'loaded')"
        ]
    )
}}

with

tickets as (
    select * from {{ ref('stg_recycling__tickets') }}
),

{% if is_incremental() %}
    seen as (
        select coalesce(max(seen_through_load_id), 0) as load_id from {{ this }}
    ),

    touched as (
        select distinct
            tickets.park_id,
            tickets.ticket_no
        from tickets
        where tickets.load_id > (select seen.load_id from seen)
        union
        select
            previous.park_id,
            previous.ticket_no
        from {{ this }} as previous
        where not exists (select 1 from tickets where tickets.load_id = previous.load_id)
    ),

    candidates as (
        select tickets.*
        from tickets
        inner join touched
            on
                tickets.park_id = touched.park_id
                and tickets.ticket_no = touched.ticket_no
    ),
{% else %}
    candidates as (
        select * from tickets
    ),
{% endif %}

ranked as (
    select
        candidates.*,
        row_number() over (
            partition by candidates.park_id, candidates.ticket_no
            order by candidates.load_id desc, candidates.source_row desc
        ) as rank_in_key
    from candidates
),

final as (
    select
        load_id,
        file_name,
        source_row,
        park_id,
        ticket_no,
        enterprise_id,
        direction,
        segment,
        material,
        weigh_in_at,
        weigh_out_at,
        gross_kg,
        tare_kg,
        deduction_kg,
        net_kg,
        hw_code,
        manifest_no,
        origin_iso3,
        destination_iso3,
        status,
        (select coalesce(max(tickets.load_id), 0) from tickets) as seen_through_load_id
    from ranked
    where rank_in_key = 1
)

select * from final
