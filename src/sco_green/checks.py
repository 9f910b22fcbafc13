"""``audit.check_results``: one history of every check, GX expectations and dbt tests alike.

An auditor asks "when did this check last fail" without knowing which tool ran it. GX rows are
written in the transaction that publishes a file (from the validation results stored with it);
dbt rows by a Cosmos callback that reads the run results each dbt task writes.
"""

from __future__ import annotations

import json
import logging
from functools import cache
from pathlib import Path
from typing import Any

import psycopg

from sco_green.paths import dbt_project_dir

log = logging.getLogger(__name__)

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


def dbt_check_rows(run_results: dict[str, Any], targets: dict[str, tuple[str, str, str]]) -> list[tuple]:
    """(run_at, check_id, target, severity, success, failures) of each data or unit test in a run, and
    of each model that failed to build."""
    run_at = run_results.get("metadata", {}).get("generated_at")
    rows = []
    for result in run_results.get("results", []):
        uid = result.get("unique_id", "")
        status = result.get("status")
        if uid.startswith("model.") and status == "error":
            # A model that fails to build (its contract's constraints, say) fails the night as a test does.
            model = uid.rsplit(".", 1)[-1]
            rows.append((run_at, f"build_{model}", model, "error", False, 1))
            continue
        if not uid.startswith(("test.", "unit_test.")) or status == "skipped":
            continue
        name, model, severity = targets.get(uid, (uid.split(".")[-2] if "." in uid else uid, "", "error"))
        failures = result.get("failures")
        rows.append((run_at, name, model, severity, status in ("pass", "success"), int(failures or 0)))
    return rows


def record_dbt_checks(project_dir: str, context: Any = None, **_: Any) -> None:
    """Cosmos ``callback``: the tests of the dbt command that just ran, from its run_results.json."""
    from sco_green.warehouse import connect

    results_path = Path(project_dir) / "target" / "run_results.json"
    if not results_path.is_file():
        log.warning("no run_results.json in %s: the task's dbt tests are not recorded", project_dir)
        return
    manifest = dbt_project_dir() / "target" / "manifest.json"
    targets = _test_targets(str(manifest), manifest.stat().st_mtime_ns)
    rows = dbt_check_rows(json.loads(results_path.read_text(encoding="utf-8")), targets)
    if not rows:
        return
    with connect() as conn, conn.transaction():
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO audit.check_results (run_at, kind, check_id, target, severity, success, failures)"
                " VALUES (coalesce(%s::timestamptz, now()), 'dbt', %s, %s, %s, %s, %s)",
                rows,
            )
