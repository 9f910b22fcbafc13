"""``audit.check_results``: one history of every check, GX expectations and dbt tests alike.

An auditor asks "when did this check last fail" without knowing which tool ran it. GX rows are
written in the transaction that publishes a file (from the validation results stored with it).
dbt rows come from dbt's own events: each dbt task's ``dbtRunner`` gets ``collect_node_result``
as a callback (Cosmos's ``dbt_runner_callbacks``), which keeps every finished node, and Cosmos's
``callback``, which runs after dbt whether or not it failed, writes them. No run_results.json is
needed, so tasks keep dbt's ``--no-write-json``.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import psycopg

from sco_green.paths import dbt_project_dir

GX_FROM_VALIDATION = """
INSERT INTO audit.check_results (run_at, kind, check_id, target, severity, success, failures)
SELECT validated_at, 'gx', coalesce(observed->>'rule_id', expectation), coalesce(load_id::text, suite),
       severity, success, unexpected_count
FROM audit.validation_results
"""


def record_gx_checks(conn: psycopg.Connection, load_id: int) -> None:
    """The GX results stored for one published file, as checks of that load."""
    conn.execute(GX_FROM_VALIDATION + " WHERE load_id = %s", (load_id,))


def record_feed_check(conn: psycopg.Connection, suite: str) -> None:
    """The newest result of a feed-level check (freshness), which has no load."""
    conn.execute(
        GX_FROM_VALIDATION + " WHERE load_id IS NULL AND suite = %s ORDER BY validated_at DESC LIMIT 1", (suite,)
    )


@cache
def _test_targets(manifest_path: str, mtime_ns: int) -> dict[str, tuple[str, str, str]]:
    """test unique_id -> (test name, the model it tests, severity) from the precomputed manifest."""
    manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    targets: dict[str, tuple[str, str, str]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "test":
            parent = node.get("attached_node") or next(iter(node["depends_on"]["nodes"]), "")
            severity = str(node["config"].get("severity", "error")).lower()
            targets[node["unique_id"]] = (node["name"], parent.rsplit(".", 1)[-1], severity)
    for test in manifest.get("unit_tests", {}).values():
        targets[test["unique_id"]] = (test["name"], test["model"], "error")
    return targets


def dbt_check_rows(results: list[dict[str, Any]], targets: dict[str, tuple[str, str, str]]) -> list[tuple]:
    """(run_at, check_id, target, severity, success, failures) of each data or unit test that ran, and
    of each model that failed to build."""
    rows = []
    for result in results:
        uid, status, run_at = result["unique_id"], result["status"], result.get("finished_at") or None
        if uid.startswith("model.") and status == "error":
            # A model that fails to build (its contract's constraints, say) fails the night as a test does.
            model = uid.rsplit(".", 1)[-1]
            rows.append((run_at, f"build_{model}", model, "error", False, 1))
            continue
        if not uid.startswith(("test.", "unit_test.")) or status == "skipped":
            continue
        name, model, severity = targets.get(uid, (uid.split(".")[-2] if "." in uid else uid, "", "error"))
        rows.append((run_at, name, model, severity, status in ("pass", "success"), int(result.get("failures") or 0)))
    return rows


# The nodes the current dbt invocation finished, in this process (one dbt task at a time).
_finished: list[dict[str, Any]] = []


def collect_node_result(event: Any) -> None:
    """dbtRunner callback: keep each finished node's id, status and failures."""
    if event.info.name != "NodeFinished":
        return
    node, result = event.data.node_info, event.data.run_result
    _finished.append(
        {
            "unique_id": node.unique_id,
            "status": result.status,
            "failures": result.num_failures,
            "finished_at": node.node_finished_at,
        }
    )


def record_dbt_checks(project_dir: str | None = None, context: Any = None, **_: Any) -> None:
    """Cosmos ``callback`` (after dbt, failed or not): the task's tests and failed models as checks."""
    from sco_green.warehouse import connect

    finished = list(_finished)
    _finished.clear()
    manifest = dbt_project_dir() / "target" / "manifest.json"
    rows = dbt_check_rows(finished, _test_targets(str(manifest), manifest.stat().st_mtime_ns))
    if not rows:
        return
    with connect() as conn, conn.transaction():
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO audit.check_results (run_at, kind, check_id, target, severity, success, failures)"
                " VALUES (coalesce(%s::timestamptz, now()), 'dbt', %s, %s, %s, %s, %s)",
                rows,
            )
