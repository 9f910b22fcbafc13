"""Marts against figures computed independently in Python from the same files.

The oracle below reads the generated CSV files in load order and applies the
contract's words (highest revision wins, later load wins, VOID cancels, WLD never
summed, membership on 31 December, month in the park's time zone, SCD2 over
snapshots); it shares no SQL with the models.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest

from sco_green import reference
from sco_green.cli import main
from sco_green.generate import CYCLE_DATES, generate


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _load_order(inbox_by_night: list[list[Path]]) -> list[Path]:
    """Files in the order the pipeline loads them: night by night, by name within a feed; each file once."""
    seen: set[str] = set()
    order = []
    for files in inbox_by_night:
        for path in sorted(files, key=lambda p: p.name):
            if path.name not in seen:
                seen.add(path.name)
                order.append(path)
    return order


def _sco_member_on(iso3: str, day: date) -> bool:
    for r in reference.sco_states():
        if r["iso3"] == iso3 and r["status"] == "member":
            start = date.fromisoformat(r["valid_from"])
            end = date.fromisoformat(r["valid_to"]) if r["valid_to"] else None
            if start <= day and (end is None or end >= day):
                return True
    return False


def expected_trade(files: list[Path]) -> dict[tuple, tuple]:
    best: dict[tuple, tuple] = {}
    for order, path in enumerate(files):
        for n, r in enumerate(_rows(path), start=1):
            key = (int(r["year"]), r["reporter_iso3"], r["partner_iso3"], r["flow"], r["hs_version"], r["hs6"])
            rank = (int(r["revision"]), order, n)
            if key not in best or rank > best[key][0]:
                best[key] = (rank, Decimal(r["trade_value_usd"]), path.name, n)
    cats = reference.green_categories()
    return {k: (cats.get((k[4], k[5])), v[1], v[0][0], v[2], v[3]) for k, v in best.items() if k[2] != "WLD"}


def expected_country(trade: dict[tuple, tuple]) -> dict[tuple, tuple]:
    out: dict[tuple, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 4)
    for (year, reporter, partner, flow, _, _), (category, value, *_rest) in trade.items():
        if category is None:
            continue
        sums = out[(year, reporter)]
        intra = _sco_member_on(partner, date(year, 12, 31))
        i = 0 if flow == "X" else 1
        sums[i] += value
        if intra:
            sums[i + 2] += value
    return {k: tuple(v) for k, v in out.items()}


def expected_tickets(files: list[Path]) -> dict[tuple, dict]:
    latest: dict[tuple, dict] = {}
    for path in files:
        for n, r in enumerate(_rows(path), start=1):
            latest[(r["park_id"], r["ticket_no"])] = {**r, "_file": path.name, "_row": n}
    tz = reference.park_timezones()
    out = {}
    for key, r in latest.items():
        if r["status"] == "VOID":
            continue
        local = datetime.fromisoformat(r["weigh_out_at"]).astimezone(ZoneInfo(tz[r["park_id"]]))
        out[key] = {**r, "local_month": local.date().replace(day=1), "net_t": Decimal(r["net_kg"]) / 1000}
    return out


def expected_monthly(tickets: dict[tuple, dict]) -> dict[tuple, tuple]:
    out: dict[tuple, list] = defaultdict(lambda: [Decimal(0), Decimal(0), 0, Decimal(0)])
    for r in tickets.values():
        agg = out[(r["park_id"], r["local_month"], r["segment"])]
        agg[0 if r["direction"] == "IN" else 1] += r["net_t"]
        agg[2] += 1
        if r["hw_code"]:
            agg[3] += r["net_t"]
    return {k: tuple(v) for k, v in out.items()}


def expected_members(files: list[Path]) -> tuple[dict[tuple, int], list[tuple]]:
    snapshots = {}
    for path in files:
        snap = date(int(path.stem[-8:-4]), int(path.stem[-4:-2]), int(path.stem[-2:]))
        snapshots[snap] = {
            r["member_id"]: (r["name_en"], r["member_type"], r["country_iso3"], tuple(sorted(r["fields"].split(";"))))
            for r in _rows(path)
        }
    counts: dict[tuple, int] = defaultdict(int)
    for snap, members in snapshots.items():
        for _, kind, country, _ in members.values():
            counts[(snap, country, kind)] += 1
    dates = sorted(snapshots)
    versions = []
    for member in sorted({m for s in snapshots.values() for m in s}):
        current = None
        for i, snap in enumerate(dates):
            attrs = snapshots[snap].get(member)
            if attrs != (current[1] if current else None):
                if current:
                    versions.append((member, current[0], snap))
                current = (snap, attrs) if attrs else None
            if i == len(dates) - 1 and current:
                versions.append((member, current[0], None))
    return dict(counts), sorted(versions)


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> list[list[Path]]:
    root = tmp_path_factory.mktemp("nights")
    inboxes = []
    for night in range(1, len(CYCLE_DATES) + 1):
        inbox = root / f"n{night}"
        generate(inbox, cycle=night)
        inboxes.append(sorted(inbox.rglob("*.csv")))
    return inboxes


def test_marts_equal_figures_computed_from_the_files(
    nights: list[list[Path]], tmp_path: Path, warehouse_url: str
) -> None:
    inbox = tmp_path / "inbox"
    for night, day in enumerate(CYCLE_DATES, start=1):
        generate(inbox, cycle=night)
        assert main(["nightly", "--inbox", str(inbox), "--logical-date", day.isoformat()]) == 0
    order = _load_order(nights)
    by_feed = {feed: [p for p in order if p.parent.name == feed] for feed in ("members", "trade", "recycling")}
    trade = expected_trade(by_feed["trade"])
    tickets = expected_tickets(by_feed["recycling"])
    counts, versions = expected_members(by_feed["members"])

    with psycopg.connect(warehouse_url) as conn:
        got_trade = {
            r[:6]: r[6:]
            for r in conn.execute(
                "SELECT year, reporter_iso3, partner_iso3, flow, hs_version, hs6, green_category, trade_value_usd,"
                " revision, source_file, source_row FROM marts.fct_trade"
            )
        }
        assert got_trade == trade
        got_country = {
            r[:2]: r[2:]
            for r in conn.execute(
                "SELECT year, country_iso3, exports_usd, imports_usd, intra_sco_exports_usd, intra_sco_imports_usd"
                " FROM marts.rpt_country_green_trade"
            )
        }
        assert got_country == expected_country(trade)
        got_tickets = {
            r[:2]: r[2:]
            for r in conn.execute(
                "SELECT park_id, ticket_no, local_month, net_t, source_file, source_row"
                " FROM marts.fct_recycling_tickets"
            )
        }
        assert got_tickets == {k: (v["local_month"], v["net_t"], v["_file"], v["_row"]) for k, v in tickets.items()}
        got_monthly = {
            r[:3]: r[3:]
            for r in conn.execute(
                "SELECT park_id, month, segment, inbound_t, outbound_t, tickets, hazardous_t"
                " FROM marts.rpt_park_recycling_monthly"
            )
        }
        assert got_monthly == expected_monthly(tickets)
        got_counts = {
            r[:3]: r[3]
            for r in conn.execute(
                "SELECT as_of_date, country_iso3, member_type, active_members FROM marts.rpt_alliance_members"
            )
        }
        assert got_counts == counts
        got_versions = sorted(conn.execute("SELECT member_id, valid_from, valid_to FROM marts.dim_members").fetchall())
        assert got_versions == versions
    # The scenario really exercised the tricky cases.
    assert ("ZIYA", "ZI1-0000001") not in tickets  # cancelled by a later VOID
    assert tickets[("ZIYA", "EDGE-2")]["local_month"] == date(2025, 2, 1)
    assert sum(1 for v in versions if v[0] == "SCOGA-0005") == 2  # left on night 2, back on night 3
    assert any(v[2] == 1 for v in trade.values())  # a revision 1 won
