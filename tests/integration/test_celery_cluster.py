"""The scale-out path: the nightly on Airflow's CeleryExecutor with PostgreSQL metadata, a Redis
broker and two celery workers as local processes, against the single-process run."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pendulum
import psycopg
import pytest

from sco_green.celery_cluster import ClusterSettings, LocalCeleryCluster
from sco_green.dag_support import PIPELINE_TZ
from sco_green.generate import generate
from sco_green.marts_publish import mart_digests
from sco_green.nightly import NIGHTLY_ORDER, run_cycle
from tests.task_logs import assert_validating_tasks_found_the_engine_preloaded

BROKER_URL = os.environ.get("SCO_GREEN_CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")


def _ledger(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT feed, file_name, status, rows_in, rows_loaded, rows_quarantined, reason"
            " FROM audit.load_ledger ORDER BY feed, file_name, status"
        ).fetchall()


def _group_gone(pid: int, wait: float = 15) -> bool:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.5)
    try:
        os.killpg(pid, signal.SIGKILL)  # leave nothing behind, whatever the assertion says
    except ProcessLookupError:
        pass
    return False


def test_nightly_on_two_celery_workers_succeeds_on_both_and_matches_the_in_process_run(
    tmp_path: Path, new_database: Callable[[str], str], warehouse_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = tmp_path / "inbox"
    generate(inbox, faults=True, cycle=1)
    settings = ClusterSettings(
        metadata_url=new_database("sco_airflow"),
        broker_url=BROKER_URL,
        warehouse_url=warehouse_url,
        inbox=inbox,
        home=tmp_path / "celery",
        workers=2,
    )
    cluster = LocalCeleryCluster(settings)
    with cluster:
        started = {name: process.pid for name, process in cluster.processes.items()}
        assert set(started) == {"api-server", "dag-processor", "scheduler", "worker-1", "worker-2"}
        result = cluster.wait_for_nightly(timeout=1200)

    assert [name for name, pid in started.items() if not _group_gone(pid)] == []
    assert result.runs == {dag_id: "success" for dag_id in NIGHTLY_ORDER}
    assert result.tasks and all(t.state == "success" for t in result.tasks), [
        (t.dag_id, t.task_id, t.state) for t in result.tasks if t.state != "success"
    ]
    assert {t.dag_id for t in result.tasks} == set(NIGHTLY_ORDER)
    assert {h.split("@")[0] for h in result.hosts} == {"worker-1", "worker-2"}
    assert_validating_tasks_found_the_engine_preloaded(settings.home / "airflow" / "logs", 3)

    # The same inbox and logical date through the single-process path, in a second warehouse.
    single = new_database("sco_test")
    monkeypatch.setenv("WAREHOUSE_URL", single)
    logical = pendulum.instance(result.logical_date).in_timezone(PIPELINE_TZ).date()
    run_cycle(inbox, logical, echo=lambda _line: None)
    assert _ledger(warehouse_url) == _ledger(single)
    celery_marts = mart_digests(warehouse_url)
    assert all(celery_marts.values())
    assert celery_marts == mart_digests(single)
