"""Reference code lists, read from the dbt seeds so validation and the marts share one source.

Country codes are the exception in origin only: ``countries.csv`` is generated from
pycountry and a test keeps the two equal.
"""

from __future__ import annotations

import csv
from functools import cache

from sco_green.paths import seeds_dir


def _seed_column(seed: str, column: str) -> tuple[str, ...]:
    with open(seeds_dir() / f"{seed}.csv", encoding="utf-8", newline="") as handle:
        return tuple(row[column] for row in csv.DictReader(handle))


@cache
def iso3_codes() -> frozenset[str]:
    return frozenset(_seed_column("countries", "iso3"))


@cache
def member_types() -> tuple[str, ...]:
    return _seed_column("member_types", "member_type")


@cache
def member_fields() -> tuple[str, ...]:
    return _seed_column("member_fields", "field")


@cache
def recycling_segments() -> tuple[str, ...]:
    return _seed_column("recycling_segments", "segment")


@cache
def hs_versions() -> tuple[str, ...]:
    return _seed_column("hs_versions", "hs_version")


@cache
def park_timezones() -> dict[str, str]:
    with open(seeds_dir() / "parks.csv", encoding="utf-8", newline="") as handle:
        return {row["park_id"]: row["timezone"] for row in csv.DictReader(handle)}


@cache
def park_ids() -> tuple[str, ...]:
    return tuple(park_timezones())


@cache
def sco_states() -> tuple[dict[str, str], ...]:
    with open(seeds_dir() / "sco_states.csv", encoding="utf-8", newline="") as handle:
        return tuple(csv.DictReader(handle))


@cache
def green_categories() -> dict[tuple[str, str], str]:
    """(hs_version, hs6) -> green category."""
    with open(seeds_dir() / "hs_green_goods.csv", encoding="utf-8", newline="") as handle:
        return {(r["hs_version"], r["hs6"]): r["green_category"] for r in csv.DictReader(handle)}
