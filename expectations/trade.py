"""Rules T01-T10 and the unit-value warning for green-goods trade records."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from expectations.rules import (
    BLOCK,
    RAGGED,
    WARN,
    Rule,
    bad_decimal,
    digits,
    duplicated,
    not_in,
    where,
)
from expectations.screens import UNSIGNED_DECIMAL, Across, Fields, RecordScreen, one_of, optional
from sco_green import reference
from sco_green.feeds import TRADE

UNIT_VALUE_FACTOR = 50
INT_MAX = 2_147_483_647  # the contract's int is published as a PostgreSQL integer


FLOWS = ("M", "X")  # import, export


def partner_codes() -> set[str]:
    """What a partner may be: an ISO alpha-3 code or WLD (the world)."""
    return reference.iso3_codes() | {"WLD"}


def trade_rules() -> list[Rule]:
    iso = reference.iso3_codes()
    partners = partner_codes()
    return [
        Rule(
            "T01",
            BLOCK,
            "year is an integer in 2000..2100",
            where("CASE WHEN sco_util.is_int(year) THEN year::bigint NOT BETWEEN 2000 AND 2100 ELSE true END"),
        ),
        Rule("T02", BLOCK, "reporter_iso3 is an ISO alpha-3 code", where(not_in("reporter_iso3", iso))),
        Rule(
            "T03",
            BLOCK,
            "partner_iso3 is an ISO alpha-3 code or WLD, and not the reporter",
            where(f"({not_in('partner_iso3', partners)} OR partner_iso3 IS NOT DISTINCT FROM reporter_iso3)"),
        ),
        Rule("T04", BLOCK, "flow is M (import) or X (export)", where(not_in("flow", FLOWS))),
        Rule(
            "T05",
            BLOCK,
            "hs_version is HS2017 or HS2022",
            where(not_in("hs_version", reference.hs_versions())),
        ),
        Rule(
            "T06",
            BLOCK,
            "hs6 is exactly six digits",
            where(f"(hs6 IS NULL OR NOT {digits('hs6', 6)})"),
        ),
        Rule(
            "T07",
            BLOCK,
            "trade_value_usd is a decimal >= 0",
            where(bad_decimal("trade_value_usd", required=True)),
        ),
        Rule(
            "T08",
            BLOCK,
            "net_weight_kg, when given, is a decimal >= 0",
            where(bad_decimal("net_weight_kg", required=False)),
        ),
        Rule(
            "T09",
            BLOCK,
            f"revision is an integer >= 0 (an int: at most {INT_MAX})",
            where(
                f"CASE WHEN sco_util.is_int(revision) THEN revision::bigint NOT BETWEEN 0 AND {INT_MAX} ELSE true END"
            ),
        ),
        Rule("T10", BLOCK, "the record key occurs once in the file", duplicated(TRADE.key)),
        RAGGED,
        Rule(
            "unit_value_outlier",
            WARN,
            f"unit value (usd per kg) within {UNIT_VALUE_FACTOR}x of the median for its hs6 that year",
            _unit_value_outliers(),
        ),
    ]


def trade_screen() -> RecordScreen:
    """The usual trade record, which breaks none of T01-T09 (or F01: screened files are plain)."""
    iso = reference.iso3_codes()
    return RecordScreen(
        fields={
            "year": "20[0-9][0-9]|2100",
            "reporter_iso3": one_of(iso),
            "partner_iso3": one_of(partner_codes()),
            "flow": one_of(FLOWS),
            "hs_version": one_of(reference.hs_versions()),
            "hs6": "[0-9]{6}",
            "trade_value_usd": UNSIGNED_DECIMAL,
            "net_weight_kg": optional(UNSIGNED_DECIMAL),
            "revision": "[0-9]{1,9}",  # below INT_MAX
        },
        across=(Across(("reporter_iso3", "partner_iso3"), _partner_not_reporter),),
    )


def _partner_not_reporter(fields: Fields) -> pa.Array:
    return pc.not_equal(fields["partner_iso3"], fields["reporter_iso3"])


# A (year, hs6) whose unit values all lie within this factor of each other holds no row more
# than UNIT_VALUE_FACTOR from its median (the median lies between them), with room for rounding.
NARROW_SPREAD = UNIT_VALUE_FACTOR - 1


def _unit_value_outliers() -> str:
    """Rows whose usd/kg is more than 50x above or below the median for their (year, hs6).

    The median is the file's, over its rows that broke no rule on the landed text (the rows it
    would publish), read typed: a year written 02025 is the year 2025, as it is published.
    Medians sort every row of their group, so they are computed only for the groups whose
    values spread wider than NARROW_SPREAD, which one hashed pass over the file finds (dividing
    the numerics: converting each to double precision costs more); in any other group no value
    can be 50x from the median.
    """
    ratio = "trade_value_usd / nullif(net_weight_kg, 0)"
    return (
        f"WITH wide AS (SELECT year, hs6 FROM {{typed}} GROUP BY year, hs6 "
        f"HAVING NOT (min({ratio}) > 0 AND max({ratio}) <= min({ratio}) * {NARROW_SPREAD})), "
        f"priced AS MATERIALIZED (SELECT t.source_row, t.year, t.hs6, {_unit_value()} AS unit_value "
        "FROM {typed} AS t JOIN wide AS w ON t.year = w.year AND t.hs6 = w.hs6), "
        "medians AS (SELECT year, hs6, percentile_cont(0.5) WITHIN GROUP (ORDER BY unit_value) AS median "
        "FROM priced WHERE unit_value IS NOT NULL GROUP BY year, hs6) "
        "SELECT p.source_row FROM priced AS p JOIN medians AS m ON p.year = m.year AND p.hs6 = m.hs6 "
        f"WHERE m.median > 0 AND (p.unit_value > m.median * {UNIT_VALUE_FACTOR} "
        f"OR p.unit_value < m.median / {UNIT_VALUE_FACTOR})"
    )


# Figures within 1e-150..1e150 divide in double precision without leaving its range.
FLOAT_SAFE = "1e150"


def _unit_value() -> str:
    """usd per kg in double precision; NULL without a weight or with a weight of 0.

    The division is in double precision where both figures lie within 1e-150..1e150 (or the
    value is 0): percentile_cont and the comparisons work in it anyway, and dividing numerics is
    far slower. Any other pair (still valid decimals) is divided as numeric and clamped, so one
    absurd value is priced, and flagged, instead of failing the whole file's validation.
    """
    safe = f"BETWEEN 1 / {FLOAT_SAFE}::numeric AND {FLOAT_SAFE}"
    return (
        "CASE WHEN net_weight_kg = 0 THEN NULL "
        f"WHEN net_weight_kg {safe} AND (trade_value_usd = 0 OR trade_value_usd {safe}) "
        "THEN trade_value_usd::float8 / net_weight_kg::float8 "
        "ELSE sco_util.clamp_float8(trade_value_usd / net_weight_kg) END"
    )
