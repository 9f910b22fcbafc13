-- SCD2 over member snapshots: a version starts at the first snapshot that shows a
-- member with given attributes, and ends at the first later snapshot where the member
-- is absent or its attributes differ.
with

members as (
    select
        member_id,
        snapshot_date,
        name_en,
        member_type,
        country_iso3,
        fields,
        md5(concat_ws('|', name_en, member_type, country_iso3, array_to_string(fields, ';'))) as attributes_hash
    from {{ ref('int_members__current_members') }}
),

snapshot_dates as (
    select distinct snapshot_date from {{ ref('int_members__snapshots') }}
),

ordered_dates as (
    select
        snapshot_date,
        lag(snapshot_date) over (order by snapshot_date) as previous_snapshot_date
    from snapshot_dates
),

with_previous as (
    select
        members.*,
        previous.attributes_hash as previous_hash
    from members
    inner join ordered_dates on members.snapshot_date = ordered_dates.snapshot_date
    left join members as previous
        on
            members.member_id = previous.member_id
            and ordered_dates.previous_snapshot_date = previous.snapshot_date
),

version_starts as (
    select * from with_previous
    where previous_hash is null or previous_hash <> attributes_hash
),

final as (
    select
        version_starts.member_id,
        version_starts.snapshot_date as valid_from,
        version_starts.name_en,
        version_starts.member_type,
        version_starts.country_iso3,
        version_starts.fields,
        (
            select min(later.snapshot_date)
            from snapshot_dates as later
            where
                later.snapshot_date > version_starts.snapshot_date
                and not exists (
                    select 1
                    from members as same
                    where
                        same.member_id = version_starts.member_id
                        and same.snapshot_date = later.snapshot_date
                        and same.attributes_hash = version_starts.attributes_hash
                )
        ) as valid_to
    from version_starts
)

select * from final
