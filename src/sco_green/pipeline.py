"""The ingest of one feed as three stages: land, validate, publish (write-audit-publish).

Each stage is what one Airflow task runs; they pass a ``FileEntry`` per file between them
(as a dict through XCom). The ledger row of a file is written in the same transaction as
the rows it describes, in ``publish``; a crash at any point before that leaves only
landing tables, which the next run drops, and the file is loaded again exactly once.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from expectations.feed_rules import screen_for
from sco_green import ledger
from sco_green.checks import record_feed_check, record_gx_checks
from sco_green.decode import FileFacts, inspect_file
from sco_green.feeds import FEEDS, FeedSpec, feed
from sco_green.landing import FileRejected, extras_as_json, land_file, landing_table, map_header, raw_keys
from sco_green.raw_tables import publish_typed, remove_loads
from sco_green.validation import (
    BLOCK_SHARE,
    FileValidation,
    count_tagged,
    fail_table,
    start_importing_validation,
    tag_and_cast_landed,
    typed_table,
)
from sco_green.warehouse import connect

log = logging.getLogger(__name__)

FRESHNESS_DAYS = 3
# pg_advisory_xact_lock(LEDGER_LOCK, feed): one publish decision per feed at a time.
LEDGER_LOCK = 7_322_011


# A file modified less than this many seconds ago is left for the next cycle (0: only a file
# seen changing while it is read is left). For inboxes filled by slow copies.
SETTLE_ENV = "SCO_GREEN_SETTLE_SECONDS"


@dataclass
class FileEntry:
    """One file's way through land, validate and publish: the ledger decision, where it landed,
    and the validation result. Crosses task boundaries as a dict (``as_xcom``/``from_xcom``)."""

    load_id: int
    feed: str
    file_name: str
    sha256: str
    size_bytes: int
    encoding: str | None
    path: str | None  # None: rejected for its name or path, never read
    supersedes: list[int] = field(default_factory=list)
    status: str | None = None  # None until decided: loaded, blocked, duplicate, rejected
    reason: str | None = None
    table: str | None = None  # the landing table, while there is one
    rows_in: int | None = None
    header: list[str] | None = None
    extra_columns: list[str] = field(default_factory=list)
    validation: FileValidation | None = None

    def as_xcom(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_xcom(cls, data: dict[str, Any]) -> FileEntry:
        validation = data.get("validation")
        return cls(**{**data, "validation": FileValidation.from_dict(validation) if validation else None})


def _is_feed_file(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() == ".csv"


def shown_name(name: str) -> str:
    """A file name as text that can be stored and printed: bytes that are not UTF-8 (which Python
    keeps as surrogates) are written as ``\\xNN``."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def path_problem(path: Path, inbox: Path) -> str | None:
    """Why a file cannot be loaded whatever its bytes (its name, or where it points), or None."""
    if shown_name(path.name) != path.name:
        return "file name is not valid UTF-8 (shown with \\x escapes): rename the file in UTF-8"
    if path.is_symlink():
        target = path.resolve()
        if not target.is_relative_to(inbox.resolve()):
            return f"a symbolic link to {shown_name(str(target))}, outside the inbox: not followed"
    return None


def inbox_files(inbox: Path, feed_name: str) -> list[Path]:
    folder = inbox / feed_name
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if _is_feed_file(p))


def unread_files(inbox: Path, feed_name: str | None = None) -> list[str]:
    """Files in the inbox that no feed reads, as paths relative to it (sorted).

    The contract reads ``DIR/<feed>/*.csv`` and nothing else, so a file dropped as
    ``trade/trade_2025.xlsx``, into ``trade/2025/`` or into a misspelt ``Trade/`` folder
    would be passed over without a word, and its rows lost without a ledger row to show it.
    Such files are named instead (hidden ones, such as ``.DS_Store``, are not); with
    ``feed_name``, only those under that feed's folder.
    """
    root = inbox / feed_name if feed_name else inbox
    if not root.is_dir():
        return []
    unread = []
    for path in root.rglob("*"):
        relative = path.relative_to(inbox)
        if len(relative.parts) == 2 and relative.parts[0] in FEEDS and _is_feed_file(path):
            continue  # read by its feed
        if path.is_file() and not any(part.startswith(".") for part in relative.parts):
            unread.append(shown_name(relative.as_posix()))
    return sorted(unread)


def _drop_stale_landing(conn: psycopg.Connection, feed_name: str) -> None:
    """Landing tables left by a run that died before publishing: nothing refers to them."""
    names = conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'landing' AND tablename LIKE %s",
        (f"{feed_name}\\_%",),
    ).fetchall()
    for (name,) in names:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier("landing", name)))


def _left_for_next_cycle(path: Path, fact: FileFacts) -> str | None:
    """Why a file is being written and must wait for the next cycle, or None."""
    if fact.changed:
        return "its size or modification time changed while it was read"
    settle = float(os.environ.get(SETTLE_ENV) or 0)
    age = time.time() - fact.mtime_ns / 1e9
    if age < settle:
        return f"it was modified {age:.0f} s ago, less than {SETTLE_ENV}={settle:g}"
    return None


def land(feed_name: str, inbox: str | Path, url: str) -> list[FileEntry]:
    """Decide every new file against the ledger and land the loadable ones.

    A file being written (seen changing, or newer than the settle time) is left for the next
    cycle with a warning and no ledger row.
    """
    spec = feed(feed_name)
    inbox = Path(inbox)
    files = inbox_files(inbox, feed_name)
    for name in unread_files(inbox, feed_name):
        log.warning("%s is not read: the %s feed reads only %s/*.csv", name, feed_name, feed_name)
    facts: dict[str, FileFacts] = {}
    paths: dict[str, Path] = {}
    problems: dict[str, str | None] = {}
    for path in files:
        name, fact = shown_name(path.name), inspect_file(path)
        if waiting := _left_for_next_cycle(path, fact):
            log.warning("%s/%s is left for the next cycle: %s", feed_name, name, waiting)
            continue
        facts[name], paths[name] = fact, path
        problems[name] = path_problem(path, inbox) or spec.name_problem(name)
    entries: list[FileEntry] = []
    with connect(url) as conn:
        with conn.transaction():
            _drop_stale_landing(conn, feed_name)
        rejected = frozenset(name for name, f in facts.items() if f.encoding is None or problems[name])
        decisions = ledger.decide(
            [(name, f.sha256) for name, f in facts.items()], ledger.history(conn, feed_name), rejected
        )
        for decision in decisions:
            if decision.action is ledger.Action.SKIP:
                log.info("%s/%s already loaded: skipped", feed_name, decision.file_name)
                continue
            fact = facts[decision.file_name]
            load_id = conn.execute("SELECT nextval('audit.load_id_seq')").fetchone()[0]
            conn.commit()
            entry = FileEntry(
                load_id=load_id,
                feed=feed_name,
                file_name=decision.file_name,
                sha256=fact.sha256,
                size_bytes=fact.size_bytes,
                encoding=fact.encoding,
                path=None if problems[decision.file_name] else str(paths[decision.file_name]),
                supersedes=list(decision.supersedes),
            )
            if decision.action is ledger.Action.DUPLICATE:
                entry.status, entry.reason = "duplicate", f"same bytes as {decision.duplicate_of}"
            elif problems[decision.file_name]:
                entry.status, entry.reason = "rejected", problems[decision.file_name]
            elif fact.encoding is None:
                entry.status, entry.reason = "rejected", f"encoding: {fact.problem}"
            if entry.status is not None:  # decided without landing
                entries.append(entry)
                continue
            table = landing_table(feed_name, load_id)
            started = time.monotonic()
            path = paths[decision.file_name]
            try:
                with conn.transaction():
                    landed = land_file(conn, spec, path, fact.encoding, table, screen_for(feed_name))
                    if changed_since(path, fact):
                        raise FileChanged
            except FileRejected as exc:
                if changed_since(path, fact):
                    log.warning("%s/%s is left for the next cycle: it changed while it was landed", *entry_id(entry))
                    continue
                entry.status = "rejected"
                entry.reason = str(exc)
                entries.append(entry)
                continue
            except (FileChanged, RuntimeError) as exc:
                if not changed_since(path, fact):
                    raise
                log.warning(
                    "%s/%s is left for the next cycle: it changed while it was landed (%s)", *entry_id(entry), exc
                )
                continue
            entries.append(entry)
            elapsed = max(time.monotonic() - started, 1e-9)
            log.info(
                "%s/%s landed %d rows in %.1fs (%.0f rows/s, %s)",
                feed_name,
                decision.file_name,
                landed.rows_in,
                elapsed,
                landed.rows_in / elapsed,
                fact.encoding,
            )
            entry.table, entry.rows_in = table, landed.rows_in
            entry.header, entry.extra_columns = landed.header, landed.extra_columns
    return entries


class FileChanged(RuntimeError):
    """The file's size or modification time is no longer the one that was hashed."""


def changed_since(path: Path, fact: FileFacts) -> bool:
    try:
        now = path.stat()
    except OSError:
        return True
    return (now.st_size, now.st_mtime_ns) != (fact.size_bytes, fact.mtime_ns)


def entry_id(entry: FileEntry) -> tuple[str, str]:
    return entry.feed, entry.file_name


def _ensure_landed(entry: FileEntry, url: str) -> None:
    """Make sure the landing table still holds the file, re-landing it when it does not.

    Landing tables are unlogged: a warehouse that crashed and restarted between the land and
    validate tasks comes back with them empty (or, after a manual cleanup, missing). The file is
    still in the inbox, so the retrying task lands it again, into the same table, after
    checking that its bytes are the ones the ledger decision was made on.
    """
    table = entry.table
    landing = sql.Identifier(*table.split("."))
    with connect(url) as conn:
        present = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()[0]
        if present:
            rows = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(landing)).fetchone()[0]
            if rows == entry.rows_in:
                return
        path = Path(entry.path)
        fact = inspect_file(path)
        if fact.sha256 != entry.sha256:
            raise RuntimeError(f"{entry.file_name}: landing table lost and the file changed since; rerun the DAG")
        log.warning("%s: landing table %s lost (warehouse restart?): landing the file again", path.name, table)
        with conn.transaction():
            if present:
                conn.execute(sql.SQL("DROP TABLE {}").format(landing))
            landed = land_file(conn, feed(entry.feed), path, entry.encoding, table, screen_for(entry.feed))
        if landed.rows_in != entry.rows_in:
            raise RuntimeError(f"{entry.file_name}: re-landed {landed.rows_in} rows, not {entry.rows_in}")


def _ensure_validated(entry: FileEntry, url: str) -> None:
    """Before publishing: the landing and failure tables are still there (another cycle's land
    may have dropped them as stale, or the warehouse restarted); if not, land and validate the
    file again from the same bytes."""
    if entry.table is None:
        return
    with connect(url) as conn:
        present = conn.execute(
            "SELECT to_regclass(%s) IS NOT NULL AND to_regclass(%s) IS NOT NULL AND to_regclass(%s) IS NOT NULL",
            (entry.table, fail_table(entry.table), typed_table(entry.table)),
        ).fetchone()[0]
    if not present:
        validate([entry], url)


def validate(entries: list[FileEntry], url: str) -> list[FileEntry]:
    """Run the feed suite on every landed file; decide loaded or blocked.

    Every file's rules run in the server before GX counts the first file's tags: GX's import (a
    few seconds of this process's CPU) then overlaps all of that server work, not one file's.
    """
    landed = [entry for entry in entries if entry.table is not None]
    if landed:
        start_importing_validation()
    typed_rows = {}
    for entry in landed:
        _ensure_landed(entry, url)
        typed_rows[entry.load_id] = tag_and_cast_landed(url, entry.feed, entry.file_name, entry.table, entry.load_id)
    for entry in landed:
        result = count_tagged(url, entry.feed, entry.file_name, entry.table, typed_rows[entry.load_id])
        entry.validation = result
        rows_in = entry.rows_in
        share = result.rows_failed / rows_in if rows_in else 0.0
        if share > BLOCK_SHARE:
            entry.status = "blocked"
            entry.reason = (
                f"blocked: {result.rows_failed} of {rows_in} rows ({share:.1%}) break block rules, "
                f"more than {BLOCK_SHARE:.0%}"
            )
        else:
            entry.status = "loaded"
    return entries


def _raw_json(header: list[str], spec: FeedSpec) -> sql.Composable:
    """jsonb of the original cells keyed by the file's own header names."""
    positions, extras = map_header(spec, header)
    wide = extras_as_json(extras)
    extra_names = iter(f"x_{i + 1}" for i in range(len(extras)))
    pairs: list[sql.Composable] = []
    for key, target in zip(raw_keys(header), positions, strict=True):
        if target is None and wide:
            continue  # in l._extras, already keyed
        column = target if target is not None else next(extra_names)
        pairs.append(sql.SQL("{}, {}").format(sql.Literal(key), sql.Identifier(column)))
    chunks = [
        sql.SQL("jsonb_build_object({})").format(sql.SQL(", ").join(pairs[i : i + 40]))
        for i in range(0, len(pairs), 40)
    ]
    if wide:
        chunks.append(sql.SQL("l._extras"))
    chunks.append(
        sql.SQL("CASE WHEN l._overflow IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('_overflow', l._overflow) END")
    )
    return sql.SQL(" || ").join(chunks)


def _listed(names: list[str], shown: int = 20) -> str:
    """Names for a one-line reason: the first ``shown``, then how many more (all are in
    audit.validation_results)."""
    head = ", ".join(names[:shown])
    return head if len(names) <= shown else f"{head} and {len(names) - shown} more"


def _supersede(conn: psycopg.Connection, spec: FeedSpec, load_id: int, older: list[int]) -> None:
    """The earlier versions of a re-dropped name leave the warehouse (before the new version's
    ledger row, which the one-loaded-name constraint would otherwise refuse)."""
    conn.execute(
        "UPDATE audit.load_ledger SET status = 'superseded', "
        "reason = concat_ws('; ', reason, 'superseded by load ' || %s::text) WHERE load_id = ANY(%s)",
        (load_id, older),
    )
    remove_loads(conn, spec, older)


def _drop_work_tables(conn: psycopg.Connection, entry: FileEntry) -> None:
    if entry.table is not None:
        for table in (entry.table, fail_table(entry.table), typed_table(entry.table)):
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(*table.split("."))))


def recheck_decision(conn: psycopg.Connection, entry: FileEntry) -> bool:
    """Decide the file against the ledger again, inside the publish transaction and under the
    feed's ledger lock; False when another cycle loaded it since it was landed (nothing to publish).

    The land task's decision may be hours old under a scheduler, and another cycle may have
    published the same file, the same bytes under another name, or another version of the name.
    """
    conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (LEDGER_LOCK, entry.feed))
    rejected = frozenset([entry.file_name]) if entry.status == "rejected" else frozenset()
    [decision] = ledger.decide([(entry.file_name, entry.sha256)], ledger.history(conn, entry.feed), rejected)
    if decision.action is ledger.Action.SKIP:
        log.warning("%s/%s was loaded by another cycle meanwhile: not published again", entry.feed, entry.file_name)
        return False
    if decision.action is ledger.Action.DUPLICATE and entry.status != "duplicate":
        entry.status, entry.reason = "duplicate", f"same bytes as {decision.duplicate_of}"
        entry.validation = None
        _drop_work_tables(conn, entry)
        entry.table = None
    entry.supersedes = list(decision.supersedes)
    return True


def _publish_one(conn: psycopg.Connection, entry: FileEntry) -> None:
    """The file's ledger row, quarantine, raw rows and validation results, in the caller's transaction."""
    spec = feed(entry.feed)
    if entry.supersedes and entry.status != "duplicate":
        _supersede(conn, spec, entry.load_id, entry.supersedes)
    _insert_ledger_row(conn, entry)
    if entry.table is not None and entry.validation is not None:
        landing = sql.Identifier(*entry.table.split("."))
        failures = sql.Identifier(*fail_table(entry.table).split("."))
        _quarantine_failing_rows(conn, spec, entry, landing, failures)
        if entry.status == "loaded":
            _publish_valid_rows(conn, spec, entry)
        _record_validation_results(conn, entry)
        _drop_work_tables(conn, entry)
    if entry.extra_columns:
        _record_extra_columns(conn, entry)
    record_gx_checks(conn, entry.load_id)


def _rows_quarantined(entry: FileEntry) -> int:
    return entry.validation.rows_failed if entry.validation else 0


def _rows_loaded(entry: FileEntry) -> int:
    return (entry.rows_in or 0) - _rows_quarantined(entry) if entry.status == "loaded" else 0


def _ledger_reason(entry: FileEntry) -> str | None:
    """The decision's reason, followed by the file's warnings (extra columns, warn rules that fired)."""
    warnings = []
    if entry.extra_columns:
        warnings.append("extra columns ignored: " + _listed(entry.extra_columns))
    if entry.validation:
        warnings += [
            f"{o.rule_id}: {o.unexpected_count} rows"
            for o in entry.validation.outcomes
            if o.severity == "warn" and o.unexpected_count
        ]
    if not warnings:
        return entry.reason
    return "; ".join([entry.reason, *warnings] if entry.reason else ["warnings: " + "; ".join(warnings)])


def _insert_ledger_row(conn: psycopg.Connection, entry: FileEntry) -> None:
    conn.execute(
        "INSERT INTO audit.load_ledger (load_id, feed, file_name, sha256, size_bytes, encoding, rows_in,"
        " rows_loaded, rows_quarantined, status, reason) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
        (
            entry.load_id,
            entry.feed,
            entry.file_name,
            entry.sha256,
            entry.size_bytes,
            entry.encoding,
            entry.rows_in,
            _rows_loaded(entry),
            _rows_quarantined(entry),
            entry.status,
            _ledger_reason(entry),
        ),
    )


def _quarantine_failing_rows(
    conn: psycopg.Connection, spec: FeedSpec, entry: FileEntry, landing: sql.Identifier, failures: sql.Identifier
) -> None:
    """Every row breaking a rule, with all the rules it breaks and its original cells."""
    conn.execute(
        sql.SQL(
            "INSERT INTO audit.quarantine (load_id, feed, file_name, row_number, rules, raw) "
            "SELECT {load_id}, {feed}, {file}, l.source_row, f.rules, {raw} FROM {landing} AS l "
            "JOIN (SELECT source_row, array_agg(DISTINCT rule_id ORDER BY rule_id) AS rules "
            "FROM {failures} GROUP BY source_row) AS f ON f.source_row = l.source_row"
        ).format(
            load_id=sql.Literal(entry.load_id),
            feed=sql.Literal(entry.feed),
            file=sql.Literal(entry.file_name),
            raw=_raw_json(entry.header or [], spec),
            landing=landing,
            failures=failures,
        )
    )


def _publish_valid_rows(conn: psycopg.Connection, spec: FeedSpec, entry: FileEntry) -> None:
    """The rows breaking no block rule, typed by validation, into raw.<feed> (``raw_tables``)."""
    rows_loaded = _rows_loaded(entry)
    validation = entry.validation
    if validation.typed_rows != rows_loaded:
        raise RuntimeError(f"{entry.file_name}: validation typed {validation.typed_rows} rows, expected {rows_loaded}")
    published = publish_typed(conn, spec, entry.load_id, typed_table(entry.table), rows_loaded)
    if published != rows_loaded:
        raise RuntimeError(f"{entry.file_name}: published {published} rows, expected {rows_loaded}")


def _record_validation_results(conn: psycopg.Connection, entry: FileEntry) -> None:
    assert entry.validation is not None
    for outcome in entry.validation.outcomes:
        conn.execute(
            "INSERT INTO audit.validation_results (load_id, suite, expectation, severity, success,"
            " unexpected_count, observed) VALUES (%s,%s,%s,%s,%s,%s,%s)",
            (
                entry.load_id,
                entry.validation.suite,
                outcome.expectation,
                outcome.severity,
                outcome.success,
                outcome.unexpected_count,
                Jsonb(
                    {
                        "rule_id": outcome.rule_id,
                        "unexpected_count": outcome.unexpected_count,
                        "element_count": entry.rows_in,
                    }
                ),
            ),
        )


def _record_extra_columns(conn: psycopg.Connection, entry: FileEntry) -> None:
    conn.execute(
        "INSERT INTO audit.validation_results (load_id, suite, expectation, severity, success,"
        " unexpected_count, observed) VALUES (%s, %s, %s, 'warn', false, 0, %s)",
        (
            entry.load_id,
            f"{entry.feed}_file",
            "extra_columns: the header has only the contract's columns",
            Jsonb({"rule_id": "extra_columns", "extra_columns": entry.extra_columns}),
        ),
    )


def publish(entries: list[FileEntry], url: str, feed_name: str, logical: date) -> dict[str, int]:
    """Publish every file in its own transaction, then record the feed's freshness."""
    summary: dict[str, int] = {}
    with connect(url) as conn:
        for entry in entries:
            _ensure_validated(entry, url)
            with conn.transaction():
                if not recheck_decision(conn, entry):
                    _drop_work_tables(conn, entry)
                    summary["skipped"] = summary.get("skipped", 0) + 1
                    continue
                _publish_one(conn, entry)
            summary[entry.status] = summary.get(entry.status, 0) + 1
            log.info("%s/%s: %s %s", feed_name, entry.file_name, entry.status, entry.reason or "")
        with conn.transaction():
            _record_freshness(conn, feed_name, logical, len(entries))
    return summary


def _record_freshness(conn: psycopg.Connection, feed_name: str, logical: date, new_files: int) -> None:
    """Note the cycle of the feed, and check it had a new file within FRESHNESS_DAYS (a warning)."""
    if not _stale_warning(conn, feed_name, logical, new_files):
        conn.execute(
            "INSERT INTO audit.check_results (kind, check_id, target, severity, success, failures)"
            " VALUES ('gx', 'feed_freshness', %s, 'warn', true, 0)",
            (f"{feed_name}_freshness",),
        )


def _stale_warning(conn: psycopg.Connection, feed_name: str, logical: date, new_files: int) -> bool:
    """Record the cycle; when the feed went FRESHNESS_DAYS without a new file, store the warning
    and return True."""
    conn.execute(
        "INSERT INTO audit.feed_cycles (feed, logical_date, new_files) VALUES (%s, %s, %s)",
        (feed_name, logical, new_files),
    )
    if new_files:
        return False
    last = conn.execute(
        "SELECT max(logical_date) FROM audit.feed_cycles WHERE feed = %s AND new_files > 0 AND logical_date <= %s",
        (feed_name, logical),
    ).fetchone()[0]
    if last is not None and logical - last <= timedelta(days=FRESHNESS_DAYS):
        return False
    first = conn.execute("SELECT min(logical_date) FROM audit.feed_cycles WHERE feed = %s", (feed_name,)).fetchone()[0]
    since = last or first
    days = (logical - since).days
    if last is None and days <= FRESHNESS_DAYS:
        return False
    conn.execute(
        "INSERT INTO audit.validation_results (load_id, suite, expectation, severity, success,"
        " unexpected_count, observed) VALUES (NULL, %s, %s, 'warn', false, 0, %s)",
        (
            f"{feed_name}_freshness",
            f"feed_freshness: a new {feed_name} file at least every {FRESHNESS_DAYS} days",
            Jsonb(
                {
                    "rule_id": "feed_freshness",
                    "last_new_file": last.isoformat() if last else None,
                    "logical_date": logical.isoformat(),
                    "days_without_new_file": days,
                }
            ),
        ),
    )
    record_feed_check(conn, f"{feed_name}_freshness")
    return True


def ingest_feed(feed_name: str, inbox: str | Path, url: str, logical: date) -> list[FileEntry]:
    """The three stages of one feed's DAG in sequence (benchmarks and tests outside Airflow)."""
    entries = validate(land(feed_name, inbox, url), url)
    publish(entries, url, feed_name, logical)
    return entries
