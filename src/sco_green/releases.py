"""Releases, completeness and restatements of the annual report (CONTRACT.md section 9).

* ``completeness``: what the year should have and what arrived, per feed; any gap makes the
  report a DRAFT, which ``report --publish`` refuses unless given a reason.
* ``record_release``: a published report's HTML digest and every figure it states, with the
  loads behind each (``audit.report_releases``, ``audit.report_figures``).
* ``detect_restatements``: after every cycle, each year's latest release is compared with the
  marts; a figure whose value changed gets an ``audit.restatements`` row naming the loads and
  files that changed it (new loads behind it, and loads it was computed from that left).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from psycopg.types.json import Jsonb

from sco_green.figures import Figure, compute_figures

log = logging.getLogger(__name__)

FRESHNESS_DAYS = 3


@dataclass
class Gap:
    feed: str
    expected: str
    arrived: str
    missing: list[str]


def completeness(conn: Any, year: int) -> list[Gap]:
    """Per feed, what the year should have and what the marts hold; a gap lists what is missing."""
    dec31 = date(year, 12, 31)
    members = [
        r[0]
        for r in conn.execute(
            "SELECT iso3 FROM ref.sco_states WHERE status = 'member' AND valid_from <= %s"
            " AND (valid_to IS NULL OR valid_to >= %s) ORDER BY iso3",
            (dec31, dec31),
        )
    ]
    reported = set(
        conn.execute("SELECT DISTINCT reporter_iso3, flow FROM marts.fct_trade WHERE year = %s", (year,)).fetchall()
    )
    trade_missing = [f"{iso} {flow}" for iso in members for flow in ("X", "M") if (iso, flow) not in reported]
    parks = [r[0] for r in conn.execute("SELECT park_id FROM ref.parks ORDER BY park_id")]
    months = set(
        conn.execute(
            "SELECT DISTINCT park_id, extract(month FROM month)::int FROM marts.rpt_park_recycling_monthly"
            " WHERE extract(year FROM month) = %s",
            (year,),
        ).fetchall()
    )
    park_missing = [f"{p} {year}-{m:02d}" for p in parks for m in range(1, 13) if (p, m) not in months]
    q4 = conn.execute(
        "SELECT max(as_of_date) FROM marts.rpt_alliance_members WHERE as_of_date BETWEEN %s AND %s",
        (date(year, 10, 1), dec31),
    ).fetchone()[0]
    gaps = [
        Gap(
            "trade",
            f"both flows (X, M) from each of the {len(members)} SCO member states",
            f"{2 * len(members) - len(trade_missing)} of {2 * len(members)}",
            trade_missing,
        ),
        Gap(
            "recycling",
            f"every month from each of the {len(parks)} parks",
            f"{12 * len(parks) - len(park_missing)} of {12 * len(parks)} park-months",
            park_missing,
        ),
        Gap(
            "members",
            f"a snapshot dated in the last quarter of {year}",
            f"snapshot of {q4}" if q4 else "none",
            [] if q4 else [f"members snapshot {year}-10-01..{year}-12-31"],
        ),
    ]
    for gap in gaps:
        stale = _stale(conn, gap.feed)
        if stale:
            gap.missing.append(stale)
    return gaps


def _stale(conn: Any, feed: str) -> str | None:
    """The feed's freshness warning when its latest new file is older than its limit."""
    last, latest = conn.execute(
        "SELECT max(logical_date) FILTER (WHERE new_files > 0), max(logical_date) FROM audit.feed_cycles"
        " WHERE feed = %s",
        (feed,),
    ).fetchone()
    if last is not None and latest is not None and (latest - last).days > FRESHNESS_DAYS:
        return f"no new {feed} file since {last} (limit {FRESHNESS_DAYS} days)"
    return None


def is_complete(gaps: list[Gap]) -> bool:
    return not any(g.missing for g in gaps)


def gaps_text(gaps: list[Gap]) -> str:
    return "; ".join(
        f"{g.feed}: {', '.join(g.missing[:6])}{' …' if len(g.missing) > 6 else ''}" for g in gaps if g.missing
    )


class DraftRefused(RuntimeError):
    """--publish of a DRAFT without --allow-incomplete."""


def record_release(
    conn: Any, year: int, html: str, figures: dict[str, Figure], complete: bool, reason: str | None
) -> int:
    """Store the release and its figures; returns the release id."""
    digest = hashlib.sha256(html.encode("utf-8")).hexdigest()
    release_id = conn.execute(
        "INSERT INTO audit.report_releases (year, html_sha256, complete, incomplete_reason)"
        " VALUES (%s, %s, %s, %s) RETURNING release_id",
        (year, digest, complete, reason),
    ).fetchone()[0]
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO audit.report_figures (release_id, figure_id, label, value, unit, load_ids)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            [(release_id, f.figure_id, f.label, f.value, f.unit, f.load_ids) for f in figures.values()],
        )
    return release_id


def _files(conn: Any, load_ids: set[int]) -> dict[int, str]:
    rows = conn.execute(
        "SELECT load_id, file_name FROM audit.load_ledger WHERE load_id = ANY(%s)", (sorted(load_ids),)
    ).fetchall()
    return dict(rows)


def _same(a: Decimal | None, b: Decimal | None) -> bool:
    if a is None or b is None:
        return a is b
    return abs(Decimal(a) - Decimal(b)) <= Decimal("0.000001")


def detect_restatements(conn: Any) -> int:
    """Compare each year's latest release with the marts; record every figure that changed since it
    was published (once per new value). Returns the rows recorded."""
    releases = conn.execute(
        "SELECT DISTINCT ON (year) release_id, year FROM audit.report_releases ORDER BY year, release_id DESC"
    ).fetchall()
    recorded = 0
    for release_id, year in releases:
        current = compute_figures(conn, year)
        published = conn.execute(
            "SELECT f.figure_id, f.value, f.load_ids,"
            " (SELECT r.current_value FROM audit.restatements r WHERE r.release_id = f.release_id"
            "  AND r.figure_id = f.figure_id ORDER BY r.detected_at DESC LIMIT 1)"
            " FROM audit.report_figures f WHERE f.release_id = %s",
            (release_id,),
        ).fetchall()
        for figure_id, value, loads, last_seen in published:
            now = current.get(figure_id)
            now_value = now.value if now else None
            if _same(now_value, value):
                continue
            if last_seen is not None and _same(now_value, last_seen):
                continue  # this change is already recorded
            before, after = set(loads or []), set(now.load_ids if now else [])
            names = _files(conn, before | after)
            cause = [{"load_id": i, "file_name": names.get(i), "change": "new"} for i in sorted(after - before)]
            cause += [{"load_id": i, "file_name": names.get(i), "change": "left"} for i in sorted(before - after)]
            conn.execute(
                "INSERT INTO audit.restatements (release_id, figure_id, published_value, current_value, cause)"
                " VALUES (%s, %s, %s, %s, %s)",
                (release_id, figure_id, value, now_value, Jsonb(cause)),
            )
            recorded += 1
    return recorded


def restatements_for(conn: Any, year: int) -> list[dict[str, Any]]:
    """The open restatements of the year's latest release, newest value per figure."""
    rows = conn.execute(
        "SELECT DISTINCT ON (r.figure_id) r.release_id, r.figure_id, f.label, f.unit, r.published_value,"
        " r.current_value, r.detected_at, r.cause"
        " FROM audit.restatements r JOIN audit.report_figures f USING (release_id, figure_id)"
        " WHERE r.release_id = (SELECT max(release_id) FROM audit.report_releases WHERE year = %s)"
        " ORDER BY r.figure_id, r.detected_at DESC",
        (year,),
    ).fetchall()
    names = ("release_id", "figure_id", "label", "unit", "published_value", "current_value", "detected_at", "cause")
    return [dict(zip(names, row, strict=True)) for row in rows]
