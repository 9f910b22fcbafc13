"""Skip a model task whose table was already built from tonight's inputs.

A night runs every model task of the build, even when nothing a model reads has changed: trade
figures arrive a few times a year, member snapshots monthly, tickets daily. A model task costs
dbt's start-up (about half a second) and its statements (an incremental model still asks its
winners what is new, a table is built again in full). Before a model task runs, the digest of
its inputs is compared with the one recorded when the table now in its schema was built:

* the project: every file of the dbt project (models, macros, seeds, configuration) and the
  versions of dbt and its adapter, so any change of code or reference data rebuilds every model;
* the data: for each feed whose raw table the model reads, through any node upstream of it or
  of a test attached to it, that feed's ledger rows (load id and status). Publishing a file,
  superseding, blocking or rejecting one all add or change a row. The models read the ledger
  only for their own feeds, naming them as literals (``tests/unit/test_unchanged_models.py``
  holds them to it); a model that reads the ledger and no raw table depends on the feeds the
  nodes reading the ledger name (every feed if one names none), and one that reads any other
  source is never skipped.

Equal digests mean the table already holds what tonight's build would give it: the task is
skipped (Airflow state ``skipped``; the tasks after it and the publish run on ``none_failed``).
The digest is recorded under the table's oid, like the facts' watermarks: publishing swaps the
names of ``marts`` and ``marts_build``, so the table found in ``marts_build`` tonight is the one
published the night before last, and its record must travel with it. It is recorded only after
the task succeeded, i.e. after the model's tests passed, and a task that runs first forgets the
record it finds, so a table whose build or tests failed is never taken as built. A full refresh
skips nothing.

The ``seeds_and_views`` task applies the same rule node by node: a seed's inputs are the project
alone, a view's the project and the feeds it and its tests read; it selects only those not
built from tonight's inputs, with every view after a rebuilt one, and is skipped when there are
none. dbt unit tests, which check a model's SQL on rows the project gives, run once per project
version (and on a full refresh) and are left out of the other nights' tasks.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from sco_green.feeds import FEEDS
from sco_green.marts_publish import BUILD, PUBLISHED
from sco_green.paths import dbt_project_dir
from sco_green.warehouse import connect

log = logging.getLogger(__name__)

RECORDS = "staging.model_build_inputs"
UNIT_TESTS_PASSED = "staging.unit_tests_passed"
EXCLUDE_UNIT_TESTS = ["--exclude-resource-type", "unit_test"]
LEDGER_SOURCE = ("audit", "load_ledger")
RAW_SOURCES = "raw"
# Not part of what dbt builds from: its own output and logs.
_NOT_PROJECT = ("target", "logs")
# A feed named as a literal in a node's SQL: what a node reading the ledger filters it to
# (tests/unit/test_unchanged_models.py holds every such node to naming only its own feeds).
_FEED_LITERAL = re.compile("['\"](" + "|".join(FEEDS) + ")['\"]")
_VERSIONED = ("dbt-core", "dbt-adapters", "dbt-postgres")


@dataclass(frozen=True)
class ModelInputs:
    """What decides a model's table besides the project: where the build writes it, and the feeds
    whose loads it reads."""

    schema: str
    name: str
    feeds: tuple[str, ...]


@dataclass(frozen=True)
class _Build:
    """What a task's ``post_execute`` records once dbt built and tested what it selected."""

    tables: list[tuple[ModelInputs, str]]  # each table with its inputs digest
    project: str  # the project digest
    unit_tested: tuple[str, ...]  # the models whose unit tests ran


# pre_execute computes the digest before dbt runs; post_execute records that same digest (a
# file published while the task ran changes the ledger after it was read: the next night sees
# a different digest and builds again, never the other way round).
_pending: dict[tuple[Any, ...], _Build] = {}


def model_inputs(manifest: dict[str, Any], unique_id: str) -> ModelInputs | None:
    """The model's relation in the build and the feeds it reads; None when it reads a source
    that is neither a raw feed table nor the ledger, or is not in the manifest (it is then
    always built)."""
    node = manifest["nodes"].get(unique_id)
    if node is None:
        return None
    tests_of = _tests_by_parent(manifest)
    seen: set[str] = set()
    pending = [unique_id]
    sources: set[tuple[str, str]] = set()
    ledger_feeds: set[str] = set()
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        source = _source_key(manifest, current)
        if source is not None:
            sources.add(source)
            continue
        pending.extend(tests_of.get(current, ()))
        found = manifest["nodes"].get(current)
        if found is not None:
            parents = found.get("depends_on", {}).get("nodes", [])
            pending.extend(parents)
            if any(_source_key(manifest, parent) == LEDGER_SOURCE for parent in parents):
                ledger_feeds |= set(_FEED_LITERAL.findall(found.get("raw_code") or "")) or set(FEEDS)
    feeds = {name for source_name, name in sources if source_name == RAW_SOURCES}
    if any(s != LEDGER_SOURCE and (s[0] != RAW_SOURCES or s[1] not in FEEDS) for s in sources):
        return None
    if LEDGER_SOURCE in sources and not feeds:
        feeds = ledger_feeds or set(FEEDS)
    schema = BUILD if node["schema"] == PUBLISHED else node["schema"]
    return ModelInputs(schema=schema, name=node.get("alias") or node["name"], feeds=tuple(sorted(feeds)))


def _source_key(manifest: dict[str, Any], unique_id: str) -> tuple[str, str] | None:
    """(source name, table name) of a source node; None for any other node."""
    if not unique_id.startswith("source."):
        return None
    source = manifest["sources"][unique_id]
    return source["source_name"], source["name"]


def _tests_by_parent(manifest: dict[str, Any]) -> dict[str, list[str]]:
    by_parent: dict[str, list[str]] = {}
    for unique_id, node in manifest["nodes"].items():
        if node["resource_type"] == "test":
            for parent in node.get("depends_on", {}).get("nodes", []):
                by_parent.setdefault(parent, []).append(unique_id)
    return by_parent


def project_digest(project: Path) -> str:
    """Every file dbt builds from (not its target/ and logs/) with its path, and the versions of
    dbt and its adapter (whose macros write the SQL)."""
    digest = hashlib.sha256()
    files = sorted(
        path for path in project.rglob("*") if path.is_file() and path.relative_to(project).parts[0] not in _NOT_PROJECT
    )
    for path in files:
        digest.update(path.relative_to(project).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    for package in _VERSIONED:
        digest.update(f"{package}=={_version(package)}\0".encode())
    return digest.hexdigest()


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "absent"


def feed_digests(conn: Any, feeds: tuple[str, ...]) -> dict[str, str]:
    """Per feed, an md5 of its ledger rows' load ids and statuses ('' for a feed with none)."""
    rows = conn.execute(
        "SELECT feed, md5(string_agg(load_id::text || ':' || status, ',' ORDER BY load_id))"
        " FROM audit.load_ledger WHERE feed = ANY(%s) GROUP BY feed",
        (list(feeds),),
    ).fetchall()
    found = dict(rows)
    return {feed: found.get(feed, "") for feed in feeds}


def inputs_digest(project: str, inputs: ModelInputs, feeds: dict[str, str]) -> str:
    """The digest a table's build is recorded with; the schema is left out, since publishing
    renames it."""
    parts = [project, inputs.name, *(f"{feed}={feeds[feed]}" for feed in inputs.feeds)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


# The table now at (schema, name), looked up by the two parameters that follow.
_RELATION = "to_regclass(format('%%I.%%I', %s::text, %s::text))"


def _records_exist(conn: Any) -> bool:
    return conn.execute("SELECT to_regclass(%s)", (RECORDS,)).fetchone()[0] is not None


def recorded_digest(conn: Any, schema: str, name: str) -> tuple[str, Any] | None:
    """The digest and time recorded for the table now at schema.name, if any."""
    if not _records_exist(conn):
        return None
    return conn.execute(
        f"SELECT inputs_digest, built_at FROM {RECORDS} WHERE relation_oid = {_RELATION}", (schema, name)
    ).fetchone()


def forget(conn: Any, schema: str, name: str) -> None:
    if _records_exist(conn):
        conn.execute(f"DELETE FROM {RECORDS} WHERE relation_oid = {_RELATION}", (schema, name))


def record(conn: Any, schema: str, name: str, digest: str) -> None:
    """Record the table now at schema.name as built from digest; forget tables that are gone."""
    conn.execute("CREATE SCHEMA IF NOT EXISTS staging")
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {RECORDS} ("
        " relation_oid oid PRIMARY KEY,"
        " built_as text NOT NULL,"  # the name at the build (publishing renames its schema)
        " inputs_digest text NOT NULL,"
        " built_at timestamptz NOT NULL DEFAULT now())"
    )
    conn.execute(
        f"INSERT INTO {RECORDS} (relation_oid, built_as, inputs_digest)"
        f" SELECT relation, %s, %s FROM {_RELATION} AS relation"
        " WHERE relation IS NOT NULL"
        " ON CONFLICT (relation_oid) DO UPDATE SET built_as = excluded.built_as,"
        " inputs_digest = excluded.inputs_digest, built_at = now()",
        (f"{schema}.{name}", digest, schema, name),
    )
    conn.execute(f"DELETE FROM {RECORDS} WHERE relation_oid NOT IN (SELECT oid FROM pg_class)")


@cache
def _manifest(path: Path, mtime_ns: int) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def load_manifest(project: Path | None = None) -> dict[str, Any]:
    """The precomputed manifest Cosmos renders the build from (read once per version)."""
    path = (project or dbt_project_dir()) / "target" / "manifest.json"
    return _manifest(path, path.stat().st_mtime_ns)


def _is_true(value: Any) -> bool:
    return value is True or str(value).strip().lower() in ("true", "1", "yes")


def _run_key(context: Any) -> tuple[Any, ...]:
    ti = context["ti"]
    return (ti.dag_id, ti.run_id, ti.task_id, getattr(ti, "map_index", -1), getattr(ti, "try_number", 0))


def skip_if_already_built(context: Any) -> str:
    """Airflow ``pre_execute`` of a model task: skip it when its table was built from these inputs,
    otherwise forget the table's record and remember the digest for ``record_build``. Returns
    the project's digest."""
    from airflow.sdk.exceptions import AirflowSkipException

    project = dbt_project_dir()
    node = (getattr(context["task"], "extra_context", None) or {}).get("dbt_node_config") or {}
    if node.get("resource_type") != "model":
        return project_digest(project)
    manifest = load_manifest(project)
    inputs = model_inputs(manifest, node["unique_id"])
    full_refresh = _is_true((context.get("params") or {}).get("full_refresh"))
    project_hash = project_digest(project)
    tables = []
    with connect() as conn:
        if inputs is not None:
            digest = inputs_digest(project_hash, inputs, feed_digests(conn, inputs.feeds))
            found = recorded_digest(conn, inputs.schema, inputs.name)
            if found is not None and found[0] == digest and not full_refresh:
                raise AirflowSkipException(
                    f"{inputs.schema}.{inputs.name} was built at {found[1]:%Y-%m-%d %H:%M:%S %Z} from the same"
                    f" project and the same loads of {', '.join(inputs.feeds) or 'no feed'}: not built again"
                )
            forget(conn, inputs.schema, inputs.name)
            tables = [(inputs, digest)]
        unit_tested = plan_unit_tests(conn, context["task"], manifest, project_hash, [node["unique_id"]], full_refresh)
        conn.commit()
    _pending[_run_key(context)] = _Build(tables, project_hash, unit_tested)
    return project_hash


def unit_tests_by_model(manifest: dict[str, Any]) -> dict[str, list[str]]:
    by_model: dict[str, list[str]] = {}
    for unique_id, unit_test in manifest.get("unit_tests", {}).items():
        for model in unit_test.get("depends_on", {}).get("nodes", []):
            by_model.setdefault(model, []).append(unique_id)
    return by_model


def unit_tests_passed(conn: Any, project: str, models: list[str]) -> bool:
    """Whether the unit tests of every one of ``models`` passed under this project digest."""
    if conn.execute("SELECT to_regclass(%s)", (UNIT_TESTS_PASSED,)).fetchone()[0] is None:
        return False
    found = conn.execute(
        f"SELECT count(*) FROM {UNIT_TESTS_PASSED} WHERE project_digest = %s AND model = ANY(%s)", (project, models)
    ).fetchone()[0]
    return found == len(set(models))


def plan_unit_tests(
    conn: Any, task: Any, manifest: dict[str, Any], project: str, models: list[str], full_refresh: bool
) -> tuple[str, ...]:
    """Leave out the unit tests of ``models`` when they all passed under this project already;
    the models whose unit tests will run (to be recorded once they passed).

    A unit test checks a model's SQL on fixed rows given in the project, never the warehouse's
    data: what the project and dbt's version decide, which the project digest holds. They run on
    the first build of each project version (and on a full refresh), not on every night.
    """
    by_model = unit_tests_by_model(manifest)
    tested = sorted(model for model in models if by_model.get(model))
    flags = list(getattr(task, "dbt_cmd_flags", None) or [])
    while EXCLUDE_UNIT_TESTS[0] in flags:  # a retry of the same task object: decide afresh
        at = flags.index(EXCLUDE_UNIT_TESTS[0])
        del flags[at : at + len(EXCLUDE_UNIT_TESTS)]
    if tested and not full_refresh and unit_tests_passed(conn, project, tested):
        flags += EXCLUDE_UNIT_TESTS
        log.info("unit tests of %s passed under this project already: not run again", ", ".join(tested))
        tested = []
    task.dbt_cmd_flags = flags
    return tuple(tested)


def record_unit_tests(conn: Any, project: str, models: tuple[str, ...]) -> None:
    conn.execute("CREATE SCHEMA IF NOT EXISTS staging")
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {UNIT_TESTS_PASSED} ("
        " project_digest text NOT NULL,"
        " model text NOT NULL,"
        " passed_at timestamptz NOT NULL DEFAULT now(),"
        " PRIMARY KEY (project_digest, model))"
    )
    conn.execute(f"DELETE FROM {UNIT_TESTS_PASSED} WHERE project_digest <> %s", (project,))
    for model in models:
        conn.execute(
            f"INSERT INTO {UNIT_TESTS_PASSED} (project_digest, model) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            (project, model),
        )


def _views(manifest: dict[str, Any]) -> set[str]:
    return {
        unique_id
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node["config"].get("materialized") == "view"
    }


def seeds_and_views(manifest: dict[str, Any]) -> list[str]:
    """The nodes of the build's ``seeds_and_views`` task (selectors ``resource_type:seed`` and
    ``config.materialized:view``)."""
    seeds = {unique_id for unique_id, node in manifest["nodes"].items() if node["resource_type"] == "seed"}
    return sorted(seeds | _views(manifest))


def with_downstream_views(manifest: dict[str, Any], nodes: set[str]) -> set[str]:
    """``nodes`` and every view downstream of one of them: dbt replaces a view by renaming the old
    one away and dropping it with ``cascade``, which drops the views that read it, so a view
    rebuilt without the views after it would leave them gone."""
    views = _views(manifest)
    result = set(nodes)
    grew = True
    while grew:
        grew = False
        for view in views - result:
            if any(parent in result and parent in views for parent in manifest["nodes"][view]["depends_on"]["nodes"]):
                result.add(view)
                grew = True
    return result


def select_changed_seeds_and_views(context: Any) -> str:
    """Airflow ``pre_execute`` of the ``seeds_and_views`` task: narrow its selection to the seeds
    and views not yet built from tonight's inputs (and the views after a rebuilt view), or skip it.
    Returns the project's digest.

    A seed's inputs are the project (its file is one of the project's files); a view's are the
    project and the loads of the feeds it and its tests read, since its tests check data.
    """
    from airflow.sdk.exceptions import AirflowSkipException

    task = context["task"]
    project = dbt_project_dir()
    manifest = load_manifest(project)
    full_refresh = _is_true((context.get("params") or {}).get("full_refresh"))
    nodes = seeds_and_views(manifest)
    planned: dict[str, tuple[ModelInputs, str]] = {}
    changed: set[str] = set()
    with connect() as conn:
        project_hash = project_digest(project)
        feeds = feed_digests(conn, tuple(FEEDS))
        for unique_id in nodes:
            inputs = model_inputs(manifest, unique_id)
            if inputs is None:
                changed.add(unique_id)
                continue
            planned[unique_id] = (inputs, inputs_digest(project_hash, inputs, feeds))
            found = recorded_digest(conn, inputs.schema, inputs.name)
            if full_refresh or found is None or found[0] != planned[unique_id][1]:
                changed.add(unique_id)
        build = with_downstream_views(manifest, changed)
        if not build:
            raise AirflowSkipException(
                f"all {len(nodes)} seeds and views were built from the same project and the same loads"
                " of the feeds they read: not built again"
            )
        for unique_id in build & planned.keys():
            forget(conn, planned[unique_id][0].schema, planned[unique_id][0].name)
        unit_tested = plan_unit_tests(conn, task, manifest, project_hash, sorted(build), full_refresh)
        conn.commit()
    task.select = ["fqn:" + ".".join(manifest["nodes"][unique_id]["fqn"]) for unique_id in sorted(build)]
    log.info("building %d of %d seeds and views: %s", len(build), len(nodes), ", ".join(sorted(build)) or "none")
    tables = [planned[unique_id] for unique_id in sorted(build & planned.keys())]
    _pending[_run_key(context)] = _Build(tables, project_hash, unit_tested)
    return project_hash


def record_build(context: Any, result: Any = None) -> None:
    """Airflow ``post_execute`` of a model task or of ``seeds_and_views`` (called only when dbt
    built and tested what it selected)."""
    pending = _pending.pop(_run_key(context), None)
    if pending is None:
        return
    with connect() as conn, conn.transaction():
        for inputs, digest in pending.tables:
            record(conn, inputs.schema, inputs.name, digest)
        if pending.unit_tested:
            record_unit_tests(conn, pending.project, pending.unit_tested)
    for inputs, digest in pending.tables:
        log.info("recorded %s.%s as built from inputs %s", inputs.schema, inputs.name, digest[:12])
