"""The figures a report states, each with a stable id and the loads it was computed from.

A figure id names what is measured, of what, for which year, and stays the same from year to
year and release to release: ``trade.exports_usd.KAZ.2025``, ``recycling.inbound_t.ZIYA.weee.2025``,
``members.active.ALL.2025``. Its load ids are the ledger's loads of the rows behind it (the
facts' source files, or the members snapshot), so ``sco-green trace`` can follow it to the CSV
rows and ``audit.restatements`` can name the loads that changed it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

SCO = "SCO"
ALL = "ALL"


@dataclass
class Figure:
    figure_id: str
    label: str
    value: Decimal
    unit: str
    load_ids: list[int] = field(default_factory=list)


# Green trade by reporter (every reporter in the marts) and for all of them, with the loads behind each.
TRADE = """
WITH facts AS (
    SELECT f.reporter_iso3, f.flow, f.trade_value_usd, l.load_id
    FROM marts.fct_trade AS f
    JOIN audit.load_ledger AS l ON l.feed = 'trade' AND l.status = 'loaded' AND l.file_name = f.source_file
    WHERE f.year = %(year)s AND f.green_category IS NOT NULL
)
SELECT coalesce(reporter_iso3, 'SCO'), flow, sum(trade_value_usd), array_agg(DISTINCT load_id ORDER BY load_id)
FROM facts GROUP BY GROUPING SETS ((reporter_iso3, flow), (flow))
"""

INTRA_SCO = """
SELECT coalesce(country_iso3, 'SCO'), sum(intra_sco_exports_usd)
FROM marts.rpt_country_green_trade WHERE year = %(year)s GROUP BY GROUPING SETS ((country_iso3), ())
"""

RECYCLING = """
WITH tickets AS (
    SELECT t.park_id, t.segment, t.direction, t.net_t, t.hw_code, l.load_id
    FROM marts.fct_recycling_tickets AS t
    JOIN audit.load_ledger AS l ON l.feed = 'recycling' AND l.status = 'loaded' AND l.file_name = t.source_file
    WHERE extract(year FROM t.local_month) = %(year)s
)
SELECT coalesce(park_id, 'ALL'), coalesce(segment, 'ALL'),
       sum(net_t) FILTER (WHERE direction = 'IN'), sum(net_t) FILTER (WHERE direction = 'OUT'),
       sum(net_t) FILTER (WHERE hw_code IS NOT NULL), array_agg(DISTINCT load_id ORDER BY load_id)
FROM tickets GROUP BY GROUPING SETS ((park_id, segment), ())
"""

MEMBERS = """
WITH as_of AS (
    SELECT max(as_of_date) AS day FROM marts.rpt_alliance_members WHERE as_of_date <= make_date(%(year)s, 12, 31)
      AND as_of_date >= make_date(%(year)s, 1, 1)
)
SELECT a.day, sum(m.active_members),
       (SELECT array_agg(load_id ORDER BY load_id) FROM audit.load_ledger
        WHERE feed = 'members' AND status = 'loaded' AND file_name = 'members_' || to_char(a.day, 'YYYYMMDD') || '.csv')
FROM as_of AS a JOIN marts.rpt_alliance_members AS m ON m.as_of_date = a.day GROUP BY a.day
"""

FLOWS = {"X": ("exports_usd", "green exports"), "M": ("imports_usd", "green imports")}


def _trade(conn: Any, year: int) -> list[Figure]:
    figures = []
    for reporter, flow, value, loads in conn.execute(TRADE, {"year": year}):
        measure, label = FLOWS[flow]
        who = "SCO reporters" if reporter == SCO else reporter
        figures.append(Figure(f"trade.{measure}.{reporter}.{year}", f"{label}, {who}, {year}", value, "USD", loads))
    loads_by_reporter = {f.figure_id.split(".")[2]: f.load_ids for f in figures if ".exports_usd." in f.figure_id}
    for country, value in conn.execute(INTRA_SCO, {"year": year}):
        if value is None:
            continue
        who = "SCO reporters" if country == SCO else country
        figures.append(
            Figure(
                f"trade.intra_sco_exports_usd.{country}.{year}",
                f"green exports to SCO members, {who}, {year}",
                value,
                "USD",
                loads_by_reporter.get(country, []),
            )
        )
    return figures


def _recycling(conn: Any, year: int) -> list[Figure]:
    figures = []
    for park, segment, inbound, outbound, hazardous, loads in conn.execute(RECYCLING, {"year": year}):
        where = "all parks" if park == ALL else f"{park} {segment}"
        key = park if park == ALL else f"{park}.{segment}"
        for measure, value, label in (
            ("inbound_t", inbound, "inbound"),
            ("outbound_t", outbound, "outbound"),
            ("hazardous_t", hazardous, "hazardous"),
        ):
            figures.append(
                Figure(f"recycling.{measure}.{key}.{year}", f"{label} tonnes, {where}, {year}", value or 0, "t", loads)
            )
    return figures


def _members(conn: Any, year: int) -> list[Figure]:
    row = conn.execute(MEMBERS, {"year": year}).fetchone()
    if not row:
        return []
    day, active, loads = row
    return [Figure(f"members.active.{ALL}.{year}", f"alliance members on {day}", active, "members", loads or [])]


def compute_figures(conn: Any, year: int) -> dict[str, Figure]:
    """Every figure of the year's report from the published marts, by id."""
    figures = _trade(conn, year) + _recycling(conn, year) + _members(conn, year)
    return {f.figure_id: f for f in figures}
