"""Reliability matrix, reruns: the same night twice, a backfill of an earlier date, and the
cluster policy that keeps every DAG's schedule and catchup deliberate."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import psycopg
import pytest

from sco_green.generate import generate
from sco_green.marts_publish import mart_digests
from sco_green.nightly import run_cycle
from sco_green.paths import dags_dir

D1, D3 = date(2025, 12, 29), date(2025, 12, 31)


def _state(url: str) -> dict[str, object]:
    """Ledger (without wall-clock columns), quarantine, freshness records and mart digests."""
    with psycopg.connect(url) as conn:
        ledger = conn.execute(
            "SELECT load_id, feed, file_name, sha256, status, rows_in, rows_loaded, rows_quarantined, reason"
            " FROM audit.load_ledger ORDER BY load_id"
        ).fetchall()
        quarantine = conn.execute(
            "SELECT load_id, file_name, row_number, rules, raw FROM audit.quarantine ORDER BY 1, 3"
        ).fetchall()
        results = conn.execute(
            "SELECT load_id, suite, expectation, severity, success, unexpected_count FROM audit.validation_results"
            " ORDER BY 1, 2, 3"
        ).fetchall()
    return {"ledger": ledger, "quarantine": quarantine, "results": results, "marts": mart_digests(url)}


def _without_load_ids(state: dict[str, object]) -> dict[str, object]:
    return {
        "ledger": [r[1:] for r in state["ledger"]],
        "quarantine": [r[1:] for r in state["quarantine"]],
        "results": sorted(r[1:] for r in state["results"]),
        "marts": state["marts"],
    }


def test_same_nightly_twice_gives_identical_marts_and_ledger(tmp_path: Path, warehouse_url: str) -> None:
    inbox = tmp_path / "inbox"
    generate(inbox, cycle=2, faults=True)
    run_cycle(inbox, D1, echo=lambda _line: None)
    first = _state(warehouse_url)
    assert first["ledger"] and all(first["marts"].values())
    run_cycle(inbox, D1, echo=lambda _line: None)
    assert _state(warehouse_url) == first  # no new loads, no new quarantine, the same marts


def test_backfill_of_an_earlier_date_equals_running_it_on_that_day(
    tmp_path: Path, warehouse_url: str, new_database: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Warehouse A ran night 1 on its day. Warehouse B's scheduler ran a later night over an empty
    inbox first; night 1 is then backfilled. Ledger, quarantine and marts are the same."""
    inbox = tmp_path / "inbox"
    generate(inbox, cycle=1, faults=True)
    run_cycle(inbox, D1, echo=lambda _line: None)
    on_the_day = _state(warehouse_url)

    backfilled = new_database("sco_test")
    monkeypatch.setenv("WAREHOUSE_URL", backfilled)
    empty = tmp_path / "empty"
    for feed in ("members", "trade", "recycling"):
        (empty / feed).mkdir(parents=True)
    run_cycle(empty, D3, echo=lambda _line: None)
    run_cycle(inbox, D1, echo=lambda _line: None)
    assert _without_load_ids(_state(backfilled)) == _without_load_ids(on_the_day)
    with psycopg.connect(backfilled) as conn:
        days = conn.execute("SELECT DISTINCT logical_date FROM audit.feed_cycles ORDER BY 1").fetchall()
    assert [d for (d,) in days] == [D1, D3]


ROGUE_DAG = """
import pendulum
from airflow.sdk import DAG, task

with DAG(dag_id="rogue_nightly", schedule="0 2 * * *", start_date=pendulum.datetime(2025, 1, 1)):
    @task
    def hello() -> None:
        print("hello")

    hello()
"""


def test_airflow_rejects_a_bare_cron_dag_with_implicit_catchup_and_accepts_every_project_dag(
    tmp_path: Path,
) -> None:
    """The policy is Airflow's own cluster policy, loaded from the project's entry point."""
    from airflow.dag_processing.dagbag import DagBag

    folder = tmp_path / "dags"
    shutil.copytree(dags_dir(), folder, ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "rogue_nightly.py").write_text(ROGUE_DAG, encoding="utf-8")
    bag = DagBag(dag_folder=str(folder))
    assert "rogue_nightly" not in bag.dags
    [(path, error)] = bag.import_errors.items()
    assert path.endswith("rogue_nightly.py")
    assert "bare string" in str(error) and "catchup left implicit" in str(error)
    assert set(bag.dags) == {"ingest_members", "ingest_trade", "ingest_recycling", "build_warehouse"}
