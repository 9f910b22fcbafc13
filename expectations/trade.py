"""Rules T01-T10 and the unit-value warning for green-goods trade records."""

from __future__ import annotations

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
from sco_green import reference
from sco_green.feeds import TRADE

UNIT_VALUE_FACTOR = 50
INT_MAX = 2_147_483_647  # the contract's int is published as a PostgreSQL integer


def trade_rules() -> list[Rule]:
    iso = reference.iso3_codes()
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
            where(f"({not_in('partner_iso3', iso | {'WLD'})} OR partner_iso3 IS NOT DISTINCT FROM reporter_iso3)"),
        ),
        Rule("T04", BLOCK, "flow is M (import) or X (export)", where(not_in("flow", ["M", "X"]))),
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


def _unit_value_outliers() -> str:
    """Rows whose usd/kg is more than 50x above or below the file's median for (year, hs6).

    The division is in double precision: percentile_cont and the comparisons work in it
    anyway, and dividing numerics is far slower. The groups are keyed by the year and hs6 as
    integers, each checked as such where it is computed: the medians sort every usable row by
    their group, and two integers sort faster than two text columns. A year written 02025 is
    the year 2025, as it is published.
    """
    return (
        "WITH priced AS (SELECT source_row, "
        "CASE WHEN sco_util.is_int(year) THEN year::bigint END AS year_key, "
        f"CASE WHEN {digits('hs6', 6)} THEN hs6::integer END AS hs6_key, "
        f"{_unit_value()} AS unit_value "
        "FROM {batch} AS batch), "
        "medians AS (SELECT year_key, hs6_key, percentile_cont(0.5) WITHIN GROUP (ORDER BY unit_value) AS median "
        "FROM priced WHERE unit_value IS NOT NULL AND year_key IS NOT NULL AND hs6_key IS NOT NULL "
        "GROUP BY year_key, hs6_key) "
        "SELECT p.source_row FROM priced AS p JOIN medians AS m ON p.year_key = m.year_key AND p.hs6_key = m.hs6_key "
        f"WHERE m.median > 0 AND (p.unit_value > m.median * {UNIT_VALUE_FACTOR} "
        f"OR p.unit_value < m.median / {UNIT_VALUE_FACTOR})"
    )


FLOAT_SAFE_LENGTH = 150


def _unit_value() -> str:
    """usd per kg in double precision; NULL when a figure is not a decimal or the weight is 0.

    Figures of at most 150 characters lie within 1e-148..1e150, so their quotient stays inside
    double precision's range and the fast float division cannot raise. A longer figure (still a
    valid decimal) is divided as numeric and clamped, so one absurd value is priced, and
    flagged, instead of failing the whole file's validation.
    """
    return (
        "CASE WHEN sco_util.is_decimal(trade_value_usd) AND sco_util.is_decimal(net_weight_kg) THEN "
        f"CASE WHEN length(trade_value_usd) <= {FLOAT_SAFE_LENGTH} AND length(net_weight_kg) <= {FLOAT_SAFE_LENGTH} "
        "THEN trade_value_usd::float8 / nullif(net_weight_kg::float8, 0) "
        "ELSE sco_util.clamp_float8(trade_value_usd::numeric / nullif(net_weight_kg::numeric, 0)) END END"
    )
