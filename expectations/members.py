"""Rules M01-M07 for alliance member snapshots (CONTRACT.md section 3, members)."""

from __future__ import annotations

from datetime import date

from expectations.rules import BLOCK, RAGGED, Rule, literal, not_in, text_array, where
from sco_green import reference


def members_rules(file_date: date | None) -> list[Rule]:
    """The members suite; ``file_date`` is the date in the file name (None when it has none)."""
    expected = f"DATE {literal(file_date.isoformat())}" if file_date else "NULL::date"
    fields = "(SELECT array_agg(btrim(f)) FROM unnest(string_to_array(fields, ';')) AS f)"
    return [
        Rule(
            "M01",
            BLOCK,
            "snapshot_date is a date equal to the date in the file name",
            where(
                "CASE WHEN sco_util.is_date(snapshot_date) "
                f"THEN snapshot_date::date IS DISTINCT FROM {expected} ELSE true END"
            ),
        ),
        # An id is compared exactly: ' M001' would silently become a second member, so an id with
        # surrounding spaces breaks M02, and so does the id it collides with once trimmed.
        Rule(
            "M02",
            BLOCK,
            "member_id is present, without surrounding spaces, and unique in the file",
            "SELECT source_row FROM (SELECT source_row, member_id, count(*) OVER "
            "(PARTITION BY btrim(member_id, E' \\t')) AS n FROM {batch}) AS keyed "
            "WHERE member_id IS NULL OR n > 1 OR member_id <> btrim(member_id, E' \\t')",
        ),
        Rule("M03", BLOCK, "name_en is present", where("name_en IS NULL")),
        Rule(
            "M04",
            BLOCK,
            "member_type is one of the contract's member types",
            where(not_in("member_type", reference.member_types())),
        ),
        Rule(
            "M05",
            BLOCK,
            "country_iso3 is an ISO 3166-1 alpha-3 code",
            where(not_in("country_iso3", reference.iso3_codes())),
        ),
        Rule(
            "M06",
            BLOCK,
            "fields lists at least one field, ;-separated, each a contract field",
            where(f"(fields IS NULL OR NOT ({fields} <@ {text_array(reference.member_fields())}))"),
        ),
        Rule(
            "M07",
            BLOCK,
            "joined_on is a date not after snapshot_date",
            where(
                "CASE WHEN NOT coalesce(sco_util.is_date(joined_on), false) THEN true "
                "WHEN sco_util.is_date(snapshot_date) THEN joined_on::date > snapshot_date::date "
                "ELSE false END"
            ),
        ),
        RAGGED,
    ]
