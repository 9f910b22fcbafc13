"""Validate a landed file with its GX suite and keep the failing rows and the typed rows.

The rules tag every row they find broken, in PostgreSQL (nothing pulled into Python); GX's
suite counts each rule's tags, and the quarantine is the block rules' tagged rows, checked
rule by rule against GX's counts: a count that differs fails the task rather than publishing
a quarantine that disagrees with the validation record. The rows breaking no block rule are
cast to raw's types on the way, for publishing.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psycopg
from psycopg import sql

from expectations.feed_rules import rules_for, suite_name
from expectations.rules import BLOCK, Rule, tagging_query, typed_tagging_query
from sco_green.feeds import FeedSpec, feed
from sco_green.paths import var_dir
from sco_green.warehouse import sqlalchemy_url

log = logging.getLogger(__name__)

BLOCK_SHARE = 0.20


class ValidationFailed(RuntimeError):
    """GX could not evaluate the suite; the task must fail, not publish."""


@dataclass
class ExpectationOutcome:
    rule_id: str
    severity: str
    expectation: str
    success: bool
    unexpected_count: int


@dataclass
class FileValidation:
    suite: str
    outcomes: list[ExpectationOutcome]
    rows_failed: int  # distinct rows breaking at least one block rule (in fail_table(landing))
    typed_rows: int  # rows breaking no block rule, cast to raw's types (in typed_table(landing))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FileValidation:
        return cls(**{**data, "outcomes": [ExpectationOutcome(**o) for o in data["outcomes"]]})


def fail_table(landing: str) -> str:
    return landing + "_fail"


def typed_table(landing: str) -> str:
    return landing + "_typed"


DOCS_SITE = "sco_green"


def _context() -> Any:
    """The project's GX file context under var/gx; validation results are stored there and
    Data Docs are built from them into var/data_docs."""
    return _context_at(str(var_dir()))


@contextlib.contextmanager
def gx_lock() -> Iterator[None]:
    """Hold the file context for one process at a time.

    The scheduler runs the three ingest DAGs together; their task processes share var/gx and
    GX rewrites great_expectations.yml, suites and the Data Docs site in place, so concurrent
    writers would tear those files. An exclusive flock serialises them across processes.
    """
    path = var_dir() / ".gx.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@cache
def _context_at(root: str) -> Any:
    import great_expectations as gx  # ~5 s to import: only validating needs it

    context = gx.get_context(mode="file", project_root_dir=root)
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    docs = str(Path(root) / "data_docs")
    sites = context.list_data_docs_sites()
    if DOCS_SITE not in sites:
        for name in list(sites):
            context.delete_data_docs_site(name)
        context.add_data_docs_site(
            site_name=DOCS_SITE,
            site_config={
                "class_name": "SiteBuilder",
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": docs},
            },
        )
    return context


_warming: threading.Thread | None = None


def _import_validation() -> None:
    started = time.perf_counter()
    try:
        import sco_green.worker_preload  # noqa: F401
    except Exception:  # noqa: BLE001 - validating imports again and reports the error there
        log.debug("importing GX ahead of validation failed", exc_info=True)
    else:
        log.info("validation engine (GX) imported by this process in %.1f s", time.perf_counter() - started)


def start_importing_validation() -> None:
    """Import GX (seconds of CPU in this process) in a background thread, once per process,
    unless the worker that forked this process preloaded it (``sco_green.executor``).

    Called as validation starts: the process then mostly waits on the server running every
    file's rules, and the suites, which need GX, come after them; an import already started is
    simply waited for. Landing does not call it: the client is busy numbering and screening
    lines then, and Airflow's land task never validates. The thread is not a daemon: a process
    that stops before the suite finishes the import before it exits rather than being torn down
    in the middle of one.
    """
    global _warming
    if _warming is not None:
        return
    if "great_expectations" in sys.modules:
        log.info("validation engine (GX) already loaded in this process")
        return
    _warming = threading.Thread(target=_import_validation, name="import-gx", daemon=False)
    _warming.start()


def build_data_docs() -> Path:
    """Rebuild the Data Docs site from every stored validation result; returns index.html."""
    import expectations.suites  # noqa: F401 - registers the custom expectation the pages render
    from sco_green.data_docs import make_offline

    with gx_lock():
        _context().build_data_docs(site_names=[DOCS_SITE])
        make_offline(var_dir() / "data_docs")
    return var_dir() / "data_docs" / "index.html"


VALIDATED = ("loaded", "blocked")


def refresh_data_docs(published: dict[str, int]) -> Path:
    """Rebuild the Data Docs when this run stored validation results (a file loaded or blocked),
    or when the site does not exist yet; a night without such files leaves the site as it is
    and never imports GX."""
    index = var_dir() / "data_docs" / "index.html"
    if index.exists() and not any(published.get(status) for status in VALIDATED):
        log.info("no file validated in this run: Data Docs unchanged")
        return index
    return build_data_docs()


# Planner settings for the sessions that run rule queries. The typed rows' CREATE TABLE AS
# passes every valid row from the workers to the leader, and at the default cost of doing so
# (0.1) the planner keeps the whole cast serial; at 0.01 the workers compute it.
RULE_SESSION = {"parallel_tuple_cost": "0.01"}


def rule_session_options(url: str) -> str:
    """libpq ``options`` for a rule session: the URL's own options, then ours."""
    own = parse_qs(urlsplit(url).query).get("options", [""])[-1]
    ours = " ".join(f"-c {name}={value}" for name, value in RULE_SESSION.items())
    return f"{own} {ours}".strip()


GX_URL_ENV = "SCO_GREEN_GX_WAREHOUSE"
_datasource_urls: dict[int, str] = {}


def _datasource(context: Any, url: str) -> Any:
    """The warehouse as a GX SQL datasource.

    The connection string is stored as an environment placeholder, so the file context
    under var/gx never holds a password; the datasource is re-created when the warehouse
    changes, so no engine for another database is reused.
    """
    name = "warehouse"
    os.environ[GX_URL_ENV] = sqlalchemy_url(url)
    if _datasource_urls.get(id(context)) == url:
        try:
            return context.data_sources.get(name)
        except (KeyError, ValueError, LookupError):
            pass
    try:
        context.data_sources.delete(name)
    except Exception:  # noqa: BLE001 - absent on first use; GX raises its own not-found types
        pass
    # The generic SQL datasource: GX's postgres one insists on a TCP host, and the embedded
    # warehouse is reached through a unix socket.
    # pool_pre_ping: a pooled connection the server has since closed (a restart, an idle
    # timeout, an administrator) is replaced on checkout instead of failing the next suite.
    datasource = context.data_sources.add_sql(
        name,
        connection_string="${" + GX_URL_ENV + "}",
        kwargs={"pool_pre_ping": True, "connect_args": {"options": rule_session_options(url)}},
    )
    _datasource_urls[id(context)] = url
    return datasource


def _exception_message(info: dict[str, Any]) -> str | None:
    """GX reports errors flat, or keyed by metric id when a metric failed; find either."""
    candidates = [info, *(v for v in info.values() if isinstance(v, dict))]
    for candidate in candidates:
        if candidate.get("raised_exception"):
            text = str(candidate.get("exception_message") or "unknown error").strip()
            return text.splitlines()[0] if text else "unknown error"
    return None


def _run_suite_locked(url: str, feed_name: str, file_name: str, table: str) -> Any:
    import great_expectations as gx

    from expectations.suites import configure_suite

    context = _context()
    datasource = _datasource(context, url)
    schema, name = table.split(".")
    asset = datasource.add_table_asset(name=table, table_name=name, schema_name=schema)
    try:
        batch = asset.add_batch_definition_whole_table("whole_file")
        suite = configure_suite(context, feed_name, file_name)
        definition = gx.ValidationDefinition(name=f"validate_{table}_{uuid.uuid4().hex[:8]}", data=batch, suite=suite)
        return definition.run(result_format={"result_format": "SUMMARY"})
    finally:
        datasource.delete_asset(table)


def run_suite(url: str, feed_name: str, file_name: str, table: str) -> list[ExpectationOutcome]:
    """Run the feed's suite on ``table`` in the warehouse; raise if any expectation errored."""
    with gx_lock():
        result = _run_suite_locked(url, feed_name, file_name, table)
    outcomes = []
    for item in result.results:
        config = item.expectation_config
        meta = config.meta or {}
        message = _exception_message(item.exception_info or {})
        if message:
            raise ValidationFailed(f"{meta.get('rule_id')}: expectation could not run: {message}")
        observed = (item.result or {}).get("observed_value")
        if not isinstance(observed, int):
            raise ValidationFailed(f"{meta.get('rule_id')}: no unexpected row count from GX")
        outcomes.append(
            ExpectationOutcome(
                rule_id=meta["rule_id"],
                severity=meta["severity"],
                expectation=config.description or config.type,
                success=bool(item.success),
                unexpected_count=observed,
            )
        )
    return outcomes


def tag_table(landing: str) -> str:
    return landing + "_tags"


def _tag_and_cast(url: str, rules: list[Rule], spec: FeedSpec, landing: str, load_id: int, file_name: str) -> int:
    """Tag every rule each landed row breaks, as (source_row, rule_id); cast the rows breaking no
    block rule into the typed table (what publishing attaches to raw); add the tags of the rules
    on typed rows. Returns the typed rows.

    Each step creates a table from a query, which parallel workers may compute (an INSERT's
    query may not); the typed table is logged, since it may become part of raw as it is.
    """
    tags, typed = tag_table(landing), typed_table(landing)
    block = [r.rule_id for r in rules if r.severity == BLOCK]  # none reads the typed rows (Rule)
    tagged, cast = (sql.Identifier(*t.split(".")) for t in (tags, typed))
    with psycopg.connect(url, options=rule_session_options(url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}, {}").format(tagged, cast))
        step = "the rules could not run"
        try:
            conn.execute(
                sql.SQL("CREATE UNLOGGED TABLE {} AS {}").format(tagged, sql.SQL(tagging_query(rules, landing)))
            )
            step = "the rows breaking no rule could not be cast to raw's types"
            typed_rows = conn.execute(_typed_rows_query(spec, landing, block, load_id, file_name)).rowcount
            step = "the rules on typed rows could not run"
            if query := typed_tagging_query(rules, typed):
                more = sql.Identifier(*(tags + "_typed").split("."))
                conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(more))
                conn.execute(sql.SQL("CREATE UNLOGGED TABLE {} AS {}").format(more, sql.SQL(query)))
                conn.execute(sql.SQL("INSERT INTO {} SELECT * FROM {}; DROP TABLE {}").format(tagged, more, more))
        except psycopg.Error as exc:
            message = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise ValidationFailed(f"{step}: {message}") from exc
    return typed_rows


def _typed_rows_query(spec: FeedSpec, landing: str, block: list[str], load_id: int, file_name: str) -> sql.Composed:
    """raw's columns, in raw's order, of the landed rows without a block rule's tag. Every such
    value parses, since a value that does not breaks its column's rule."""
    casts = sql.SQL(", ").join(
        sql.SQL("{} AS {}").format(sql.SQL(c.cast()), sql.Identifier(c.name)) for c in spec.columns
    )
    return sql.SQL(
        "CREATE TABLE {typed} AS SELECT {load_id}::bigint AS load_id, {file}::text AS file_name, source_row, {casts} "
        "FROM {landing} AS l WHERE NOT EXISTS "
        "(SELECT 1 FROM {tags} AS t WHERE t.source_row = l.source_row AND t.rule_id = ANY({block}))"
    ).format(
        typed=sql.Identifier(*typed_table(landing).split(".")),
        load_id=sql.Literal(load_id),
        file=sql.Literal(file_name),
        casts=casts,
        landing=sql.Identifier(*landing.split(".")),
        tags=sql.Identifier(*tag_table(landing).split(".")),
        block=sql.Literal(block),
    )


def _keep_failures(url: str, outcomes: list[ExpectationOutcome], tags: str, failures: str) -> int:
    """The rows breaking a block rule (what the quarantine holds), checked rule by rule against
    GX's counts; returns how many distinct rows they are. The tags are dropped."""
    block = [o.rule_id for o in outcomes if o.severity == BLOCK]
    tagged, kept = (sql.Identifier(*t.split(".")) for t in (tags, failures))
    with psycopg.connect(url) as conn:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(kept))
        conn.execute(
            sql.SQL("CREATE UNLOGGED TABLE {} AS SELECT source_row, rule_id FROM {} WHERE rule_id = ANY(%s)").format(
                kept, tagged
            ),
            (block,),
        )
        counts = dict(conn.execute(sql.SQL("SELECT rule_id, count(*) FROM {} GROUP BY 1").format(kept)).fetchall())
        for outcome in outcomes:
            if outcome.severity == BLOCK and counts.get(outcome.rule_id, 0) != outcome.unexpected_count:
                raise ValidationFailed(
                    f"{outcome.rule_id}: GX counted {outcome.unexpected_count} unexpected rows, "
                    f"the quarantine holds {counts.get(outcome.rule_id, 0)}"
                )
        conn.execute(sql.SQL("DROP TABLE {}").format(tagged))
        return conn.execute(sql.SQL("SELECT count(DISTINCT source_row) FROM {}").format(kept)).fetchone()[0]


def tag_and_cast_landed(url: str, feed_name: str, file_name: str, table: str, load_id: int) -> int:
    """A landed file's first half of validation, all in the server (no GX): tag the rows with the
    rules they break (one scan) and cast the rest; returns the typed rows."""
    return _tag_and_cast(url, rules_for(feed_name, file_name), feed(feed_name), table, load_id, file_name)


def count_tagged(url: str, feed_name: str, file_name: str, table: str, typed_rows: int) -> FileValidation:
    """The second half: GX counts each rule's tags, and the rows breaking a block rule are kept
    for the quarantine."""
    tags = tag_table(table)
    outcomes = run_suite(url, feed_name, file_name, tags)
    rows_failed = _keep_failures(url, outcomes, tags, fail_table(table))
    return FileValidation(suite_name(feed_name), outcomes, rows_failed, typed_rows)
