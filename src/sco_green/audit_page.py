"""``var/audit/index.html``: what auditors review after a night, in one self-contained page.

The night's files with the ledger's decision and reason, rows in / loaded / quarantined; the
quarantined rows by rule with the rule's meaning and their original cells (the first few per
rule, counts for all); every expectation's result; the build's dbt tests. Chinese and English,
rendered from a Jinja2 template with its style inline: no script, and nothing from another host.

"The night" is, per feed, what its latest cycle published: the ledger rows written after the
feed's previous cycle and up to its latest one (``audit.feed_cycles``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg

from expectations.feed_rules import rules_for
from sco_green.feeds import FEEDS
from sco_green.paths import var_dir
from sco_green.rendering import render_template

ROWS_SHOWN_PER_RULE = 20
RECENT_FILES = 50

STATUS_ZH = {
    "loaded": "已加载",
    "duplicate": "重复",
    "superseded": "已被替代",
    "blocked": "已阻止",
    "rejected": "已拒绝",
}

NIGHT_LEDGER = """
WITH cycles AS (
    SELECT feed, ran_at, lag(ran_at) OVER (PARTITION BY feed ORDER BY ran_at) AS previous,
           row_number() OVER (PARTITION BY feed ORDER BY ran_at DESC) AS newest
    FROM audit.feed_cycles
)
SELECT l.load_id, l.feed, l.file_name, l.sha256, l.size_bytes, l.encoding, l.rows_in, l.rows_loaded,
       l.rows_quarantined, l.status, l.reason, l.loaded_at
FROM audit.load_ledger AS l
JOIN cycles AS c ON c.feed = l.feed AND c.newest = 1
WHERE l.loaded_at <= c.ran_at AND (c.previous IS NULL OR l.loaded_at > c.previous)
ORDER BY l.feed, l.load_id
"""

LEDGER_BY_ID = """
SELECT load_id, feed, file_name, sha256, size_bytes, encoding, rows_in, rows_loaded, rows_quarantined, status,
       reason, loaded_at
FROM audit.load_ledger WHERE load_id = ANY(%(loads)s) ORDER BY feed, load_id
"""

QUARANTINE_BY_RULE = """
SELECT rule, count(*) AS n FROM audit.quarantine AS q, unnest(q.rules) AS rule
WHERE q.load_id = ANY(%(loads)s) GROUP BY rule ORDER BY rule
"""

QUARANTINE_SAMPLE = """
SELECT rule, load_id, file_name, row_number, rules, raw FROM (
    SELECT r.rule, q.load_id, q.file_name, q.row_number, q.rules, q.raw,
           row_number() OVER (PARTITION BY r.rule ORDER BY q.load_id, q.row_number) AS shown
    FROM audit.quarantine AS q, unnest(q.rules) AS r(rule)
    WHERE q.load_id = ANY(%(loads)s)
) AS ranked WHERE shown <= %(shown)s ORDER BY rule, load_id, row_number
"""

EXPECTATIONS = """
SELECT v.load_id, l.file_name, v.suite, v.expectation, v.severity, v.success, v.unexpected_count,
       v.observed->>'rule_id' AS rule_id
FROM audit.validation_results AS v LEFT JOIN audit.load_ledger AS l USING (load_id)
WHERE v.load_id = ANY(%(loads)s) OR (v.load_id IS NULL AND v.validated_at >= %(since)s)
ORDER BY v.load_id NULLS LAST, v.suite, v.expectation
"""

DBT_TESTS = """
SELECT check_id, target, severity, success, failures, run_at FROM audit.check_results
WHERE kind = 'dbt' AND run_at >= %(since)s ORDER BY success, target, check_id
"""


@dataclass
class AuditPage:
    generated_at: datetime
    files: list[dict[str, Any]]
    rules: list[dict[str, Any]]
    expectations: list[dict[str, Any]]
    dbt_tests: list[dict[str, Any]]
    recent: list[dict[str, Any]] = field(default_factory=list)
    feeds_without_files: list[str] = field(default_factory=list)


def _dicts(cursor: psycopg.Cursor) -> list[dict[str, Any]]:
    names = [c.name for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def rule_meanings() -> dict[str, str]:
    """Each rule id and what it checks, from the suites themselves."""
    meanings: dict[str, str] = {}
    for name in FEEDS:
        for rule in rules_for(name, f"{name}_20250101.csv"):
            meanings.setdefault(rule.rule_id, rule.description)
    return meanings


def _in_feed_order(rule: str, keys: dict[str, None]) -> list[str]:
    """The raw cells' names as the feed's contract lists them (jsonb keeps its own order), extras last."""
    order = {
        name: i
        for spec in FEEDS.values()
        if spec.name[0].upper() == rule[:1]
        for i, name in enumerate(spec.column_names)
    }
    return sorted(keys, key=lambda k: (order.get(k, len(order)), k))


def collect(conn: psycopg.Connection, load_ids: list[int] | None = None) -> AuditPage:
    """The page's content: the latest night's files, or the files ``load_ids`` names."""
    if load_ids is None:
        files = _dicts(conn.execute(NIGHT_LEDGER))
    else:
        files = _dicts(conn.execute(LEDGER_BY_ID, {"loads": load_ids}))
    for f in files:
        f["status_zh"] = STATUS_ZH.get(f["status"], f["status"])
    loads = [f["load_id"] for f in files]
    since = min((f["loaded_at"] for f in files), default=None)
    if since is None:
        since = conn.execute("SELECT coalesce(max(ran_at), now()) FROM audit.feed_cycles").fetchone()[0]
    meanings = rule_meanings()
    counts = conn.execute(QUARANTINE_BY_RULE, {"loads": loads}).fetchall()
    samples = _dicts(conn.execute(QUARANTINE_SAMPLE, {"loads": loads, "shown": ROWS_SHOWN_PER_RULE}))
    rules = []
    for rule, n in counts:
        rows = [s for s in samples if s["rule"] == rule]
        columns = _in_feed_order(rule, dict.fromkeys(k for r in rows for k in r["raw"]))
        rules.append({"rule": rule, "meaning": meanings.get(rule, ""), "count": n, "rows": rows, "columns": columns})
    recent = _dicts(
        conn.execute(
            "SELECT load_id, feed, file_name, status, rows_in, rows_loaded, rows_quarantined, loaded_at"
            " FROM audit.load_ledger ORDER BY load_id DESC LIMIT %s",
            (RECENT_FILES,),
        )
    )
    seen = {f["feed"] for f in files}
    return AuditPage(
        generated_at=conn.execute("SELECT now()").fetchone()[0],
        files=files,
        rules=rules,
        expectations=_dicts(conn.execute(EXPECTATIONS, {"loads": loads, "since": since})),
        dbt_tests=_dicts(conn.execute(DBT_TESTS, {"since": since})),
        recent=recent,
        feeds_without_files=[name for name in FEEDS if name not in seen],
    )


def render(page: AuditPage) -> str:
    return render_template("audit.html.j2", page=page, shown=ROWS_SHOWN_PER_RULE)


def write_audit_page(out_dir: Path | None = None, url: str | None = None) -> Path:
    """Render the page from the warehouse into ``out_dir`` (default var/audit); returns its path."""
    from sco_green.report import write_atomically
    from sco_green.warehouse import connect

    with connect(url) as conn:
        page = collect(conn)
    path = (out_dir or var_dir() / "audit") / "index.html"
    write_atomically(path, render(page))
    return path
