"""The three feeds as data: columns, types and keys from CONTRACT.md section 3.

One spec per feed drives the generic loader, the raw tables and the validation
suites, so nothing about a feed is written down twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str  # type in the raw table; landing is all text

    def cast(self) -> str:
        """SQL expression turning the landing text into the raw type (only run on valid rows)."""
        if self.sql_type == "text":
            return self.name
        return f"{self.name}::{self.sql_type}"


@dataclass(frozen=True)
class FeedSpec:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    file_pattern: re.Pattern[str]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def dated(self) -> bool:
        """Whether the feed's file names carry a date the rows are checked against (members)."""
        return "ymd" in self.file_pattern.groupindex

    def file_date(self, file_name: str) -> date | None:
        """The date a file name carries (members snapshots), or None."""
        match = self.file_pattern.fullmatch(file_name)
        if not match or "ymd" not in match.groupdict():
            return None
        try:
            ymd = match["ymd"]
            return date(int(ymd[:4]), int(ymd[4:6]), int(ymd[6:]))
        except ValueError:
            return None

    def name_problem(self, file_name: str) -> str | None:
        """Why a file of a dated feed cannot be loaded under this name, or None.

        A members snapshot is dated by its name alone: M01 compares every row with that date
        and the warehouse's snapshots are keyed by it, so a name without a real date (say
        members_20250931.csv) would block every row, or, with no rows, publish a snapshot
        of no date that no model can place. Such a file is rejected as a whole instead.
        """
        if not self.dated or self.file_date(file_name) is not None:
            return None
        return f"file name: {file_name!r} does not carry a real date; expected {self.name}_YYYYMMDD.csv"


MEMBERS = FeedSpec(
    name="members",
    columns=(
        Column("snapshot_date", "date"),
        Column("member_id", "text"),
        Column("name_en", "text"),
        Column("name_zh", "text"),
        Column("member_type", "text"),
        Column("country_iso3", "text"),
        Column("fields", "text"),
        Column("joined_on", "date"),
    ),
    key=("member_id",),
    # ASCII digits only: the staging model reads the date with [0-9], and \d would also
    # take other scripts' digits, which int() reads.
    file_pattern=re.compile(r"members_(?P<ymd>[0-9]{8})\.csv"),
)

TRADE = FeedSpec(
    name="trade",
    columns=(
        Column("year", "integer"),
        Column("reporter_iso3", "text"),
        Column("partner_iso3", "text"),
        Column("flow", "text"),
        Column("hs_version", "text"),
        Column("hs6", "text"),
        Column("trade_value_usd", "numeric"),
        Column("net_weight_kg", "numeric"),
        Column("revision", "integer"),
    ),
    key=("year", "reporter_iso3", "partner_iso3", "flow", "hs_version", "hs6"),
    file_pattern=re.compile(r"trade_.*\.csv"),
)

RECYCLING = FeedSpec(
    name="recycling",
    columns=(
        Column("park_id", "text"),
        Column("ticket_no", "text"),
        Column("enterprise_id", "text"),
        Column("direction", "text"),
        Column("segment", "text"),
        Column("material", "text"),
        Column("weigh_in_at", "timestamptz"),
        Column("weigh_out_at", "timestamptz"),
        Column("gross_kg", "numeric"),
        Column("tare_kg", "numeric"),
        Column("deduction_kg", "numeric"),
        Column("net_kg", "numeric"),
        Column("hw_code", "text"),
        Column("manifest_no", "text"),
        Column("origin_iso3", "text"),
        Column("destination_iso3", "text"),
        Column("status", "text"),
    ),
    key=("park_id", "ticket_no"),
    file_pattern=re.compile(r"tickets_.*\.csv"),
)

FEEDS: dict[str, FeedSpec] = {f.name: f for f in (MEMBERS, TRADE, RECYCLING)}


def feed(name: str) -> FeedSpec:
    try:
        return FEEDS[name]
    except KeyError:
        raise ValueError(f"unknown feed {name!r}; expected one of {', '.join(FEEDS)}") from None
