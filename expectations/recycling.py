"""Rules R01-R12 for weighbridge tickets from the recycling parks."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from expectations.rules import (
    BLOCK,
    RAGGED,
    Rule,
    bad_decimal,
    duplicated,
    literal,
    not_in,
    optional_not_in,
    where,
)
from expectations.screens import (
    GIVEN,
    SMALL_DECIMAL,
    USUAL_TIMESTAMP,
    Across,
    Fields,
    RecordScreen,
    decimals,
    instants,
    one_of,
    optional,
)
from sco_green import reference
from sco_green.feeds import RECYCLING

# The sets and pattern both the rules and the screen hold a ticket to.
DIRECTIONS = ("IN", "OUT")
STATUSES = ("OK", "VOID")
HW_CODE = "[0-9]{3}-[0-9]{3}-[0-9]{2}"  # a hazardous-waste code, NNN-NNN-NN


def recycling_rules() -> list[Rule]:
    iso = reference.iso3_codes()
    decimals_ok = (
        "sco_util.is_decimal(gross_kg) AND sco_util.is_decimal(tare_kg) "
        "AND (deduction_kg IS NULL OR sco_util.is_decimal(deduction_kg))"
    )
    return [
        Rule("R01", BLOCK, "park_id is a park in the parks seed", where(not_in("park_id", reference.park_ids()))),
        Rule(
            "R02",
            BLOCK,
            "ticket_no and enterprise_id are present",
            where("(ticket_no IS NULL OR enterprise_id IS NULL)"),
        ),
        Rule("R03", BLOCK, "direction is IN or OUT", where(not_in("direction", DIRECTIONS))),
        Rule(
            "R04",
            BLOCK,
            "segment is one of the five recycling segments",
            where(not_in("segment", reference.recycling_segments())),
        ),
        Rule(
            "R05",
            BLOCK,
            "weigh_in_at and weigh_out_at are ISO 8601 with a UTC offset, out >= in",
            where(
                "CASE WHEN sco_util.is_timestamptz(weigh_in_at) AND sco_util.is_timestamptz(weigh_out_at) "
                "THEN weigh_out_at::timestamptz < weigh_in_at::timestamptz ELSE true END"
            ),
        ),
        Rule(
            "R06",
            BLOCK,
            "gross_kg, tare_kg and deduction_kg are decimals >= 0 (deduction may be empty)",
            where(
                f"({bad_decimal('gross_kg', required=True)} OR {bad_decimal('tare_kg', required=True)} "
                f"OR {bad_decimal('deduction_kg', required=False)})"
            ),
        ),
        Rule(
            "R07",
            BLOCK,
            "net_kg > 0 and within 1 kg of gross - tare - deduction",
            where(
                "CASE WHEN NOT coalesce(sco_util.is_decimal(net_kg), false) THEN true "
                "WHEN net_kg::numeric <= 0 THEN true "
                f"WHEN {decimals_ok} THEN abs(net_kg::numeric - (gross_kg::numeric - tare_kg::numeric "
                "- coalesce(deduction_kg::numeric, 0))) > 1 "
                "ELSE false END"
            ),
        ),
        Rule(
            "R08",
            BLOCK,
            "hw_code, when given, is a hazardous-waste code NNN-NNN-NN",
            where(f"(hw_code IS NOT NULL AND hw_code !~ {literal('^' + HW_CODE + '$')})"),
        ),
        Rule(
            "R09",
            BLOCK,
            "manifest_no is present when hw_code is set",
            where("(hw_code IS NOT NULL AND manifest_no IS NULL)"),
        ),
        Rule(
            "R10",
            BLOCK,
            "origin_iso3 and destination_iso3, when given, are ISO alpha-3 codes",
            where(f"({optional_not_in('origin_iso3', iso)} OR {optional_not_in('destination_iso3', iso)})"),
        ),
        Rule("R11", BLOCK, "status is OK or VOID", where(not_in("status", STATUSES))),
        Rule("R12", BLOCK, "(park_id, ticket_no) occurs once in the file", duplicated(RECYCLING.key)),
        RAGGED,
    ]


def recycling_screen() -> RecordScreen:
    """The usual ticket, which breaks none of R01-R11 (or F01: screened files are plain)."""
    iso = reference.iso3_codes()
    return RecordScreen(
        fields={
            "park_id": one_of(reference.park_ids()),
            "ticket_no": GIVEN,
            "enterprise_id": GIVEN,
            "direction": one_of(DIRECTIONS),
            "segment": one_of(reference.recycling_segments()),
            "weigh_in_at": USUAL_TIMESTAMP,
            "weigh_out_at": USUAL_TIMESTAMP,
            "gross_kg": SMALL_DECIMAL,
            "tare_kg": SMALL_DECIMAL,
            "deduction_kg": optional(SMALL_DECIMAL),
            "net_kg": SMALL_DECIMAL,
            "hw_code": optional(HW_CODE),
            "origin_iso3": optional(one_of(iso)),
            "destination_iso3": optional(one_of(iso)),
            "status": one_of(STATUSES),
        },
        across=(
            Across(("weigh_in_at", "weigh_out_at"), _weighed_out_after_in),
            Across(("gross_kg", "tare_kg", "deduction_kg", "net_kg"), _net_within_a_kilogram),
            Across(("hw_code", "manifest_no"), _manifest_with_hw_code),
        ),
    )


def _weighed_out_after_in(fields: Fields) -> pa.Array:
    return pc.greater_equal(instants(fields["weigh_out_at"]), instants(fields["weigh_in_at"]))


# Below the rule's 1 kg by far more than double precision's error on SMALL_DECIMAL figures.
NET_TOLERANCE_KG = 0.99


def _net_within_a_kilogram(fields: Fields) -> pa.Array:
    """Net above 0 and within NET_TOLERANCE_KG of gross - tare - deduction (R07)."""
    net, gross, tare = (decimals(fields[c]) for c in ("net_kg", "gross_kg", "tare_kg"))
    deduction = pc.fill_null(decimals(fields["deduction_kg"]), 0.0)
    off = pc.abs(pc.subtract(net, pc.subtract(pc.subtract(gross, tare), deduction)))
    return pc.and_(pc.greater(net, 0), pc.less_equal(off, NET_TOLERANCE_KG))


def _manifest_with_hw_code(fields: Fields) -> pa.Array:
    return pc.or_(pc.is_null(fields["hw_code"]), pc.is_valid(fields["manifest_no"]))
