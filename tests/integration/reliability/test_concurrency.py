"""Two cycles on one warehouse: the cycle lock, the ledger's re-check and constraints, a killed holder.

Every cycle here is a real ``sco-green nightly`` process from a working folder of its own (its own
Airflow home), all on the same warehouse and inbox, as two engineers or a cron and a hand would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import psycopg
import pytest

from sco_green import pipeline
from sco_green.cycle_lock import current_holder, cycle_lock
from sco_green.generate import generate
from sco_green.marts_publish import PublishRefused, mart_digests, publish_marts
from sco_green.nightly import run_cycle
from tests.integration.reliability.helpers import ledger_rows

DAY = "2025-12-29"
DAY_DATE = date.fromisoformat(DAY)


def _cli_env(folder: Path, url: str) -> dict[str, str]:
    """The environment of a fresh shell in ``folder``: none of this test process's Airflow settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "SCO_GREEN"))}
    env.update(WAREHOUSE_URL=url, SCO_GREEN_VAR=str(folder / "var"))
    return env


def _nightly(folder: Path, url: str, inbox: Path, *extra: str) -> subprocess.Popen:
    folder.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [sys.executable, "-m", "sco_green.cli", "nightly", "--inbox", str(inbox), "--logical-date", DAY, *extra],
        cwd=folder,
        env=_cli_env(folder, url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _wait_for_holder(url: str, child: subprocess.Popen, timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            assert child.poll() is None, child.communicate()
            exists = conn.execute("SELECT to_regclass('audit.load_ledger') IS NOT NULL").fetchone()[0]
            holder = current_holder(conn) if exists else None
            if holder is not None:
                return str(holder)
            time.sleep(0.2)
    raise AssertionError("the first cycle never took the lock")


def _ledger(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT feed, file_name, sha256, status, rows_in, rows_loaded, rows_quarantined"
            " FROM audit.load_ledger ORDER BY feed, file_name, load_id"
        ).fetchall()


def test_two_cycles_at_once_load_each_file_once_and_equal_a_single_cycle(
    tmp_path: Path, new_database: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = tmp_path / "inbox"
    generate(inbox, cycle=1, faults=True)
    url = new_database("sco_test")
    first = _nightly(tmp_path / "a", url, inbox)
    holder = _wait_for_holder(url, first)
    waiting = _nightly(tmp_path / "b", url, inbox, "--wait", "600")
    refused = _nightly(tmp_path / "c", url, inbox)
    _, refused_err = refused.communicate(timeout=120)
    assert refused.returncode == 75, refused_err
    [line] = refused_err.strip().splitlines()
    assert "another cycle holds the warehouse" in line and "pid=" in line and "since" in line
    assert holder.split(",")[0] in line
    for child in (first, waiting):
        out, err = child.communicate(timeout=900)
        assert child.returncode == 0, err[-2000:]
    # The waiting cycle ran after the first and found every file in the ledger.
    assert "no new files" in out

    reference = new_database("sco_test")
    monkeypatch.setenv("WAREHOUSE_URL", reference)
    run_cycle(inbox, DAY_DATE, echo=lambda _: None)
    assert _ledger(url) == _ledger(reference)
    assert mart_digests(url) == mart_digests(reference)
    with psycopg.connect(url) as conn:
        for feed in ("members", "trade", "recycling"):
            raw = conn.execute(f"SELECT count(*) FROM raw.{feed}").fetchone()[0]
            loaded = conn.execute(
                "SELECT coalesce(sum(rows_loaded), 0) FROM audit.load_ledger WHERE feed = %s AND status = 'loaded'",
                (feed,),
            ).fetchone()[0]
            assert raw == loaded


def test_a_killed_holder_leaves_no_lock_and_the_next_cycle_ingests_what_it_left(
    tmp_path: Path, new_database: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = tmp_path / "inbox"
    generate(inbox, cycle=1)
    url = new_database("sco_test")
    first = _nightly(tmp_path / "a", url, inbox)
    _wait_for_holder(url, first)
    os.killpg(first.pid, signal.SIGKILL)
    first.communicate()
    with psycopg.connect(url, autocommit=True) as conn:
        deadline = time.monotonic() + 30
        while current_holder(conn) is not None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert current_holder(conn) is None
    monkeypatch.setenv("WAREHOUSE_URL", url)
    with cycle_lock(url, "test", wait=0):  # taken at once: nothing of the killed holder remains
        for feed in ("members", "trade", "recycling"):
            pipeline.ingest_feed(feed, inbox, url, DAY_DATE)
    ledger = _ledger(url)
    assert {row[3] for row in ledger} == {"loaded"}
    assert len({(row[0], row[1]) for row in ledger}) == len(ledger) == 4
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'landing'").fetchone()[0] == 0


def test_a_file_another_cycle_published_meanwhile_is_not_published_again(
    tmp_path: Path, db: psycopg.Connection, warehouse_url: str
) -> None:
    """A scheduled run lands trade, a hand-started cycle lands and publishes the same file (dropping
    the first run's landing table as stale), then the scheduled run validates and publishes."""
    generate(tmp_path, cycle=1)
    scheduled = pipeline.land("trade", tmp_path, warehouse_url)
    pipeline.ingest_feed("trade", tmp_path, warehouse_url, DAY_DATE)
    summary = pipeline.publish(pipeline.validate(scheduled, warehouse_url), warehouse_url, "trade", DAY_DATE)
    assert summary == {"skipped": 1}
    [(name, status, rows_in, loaded, _, _)] = ledger_rows(db)
    assert status == "loaded" and db.execute("SELECT count(*) FROM raw.trade").fetchone()[0] == loaded
    assert db.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'landing'").fetchone()[0] == 0


def test_the_same_bytes_landed_under_two_names_by_two_cycles_publish_once_then_as_duplicate(
    tmp_path: Path, db: psycopg.Connection, warehouse_url: str
) -> None:
    generate(tmp_path, cycle=1)
    [original] = sorted((tmp_path / "trade").glob("*.csv"))
    other = tmp_path / "other"
    (other / "trade").mkdir(parents=True)
    (other / "trade" / "trade_copy.csv").write_bytes(original.read_bytes())
    first = pipeline.land("trade", tmp_path, warehouse_url)
    second = pipeline.land("trade", other, warehouse_url)
    pipeline.publish(pipeline.validate(first, warehouse_url), warehouse_url, "trade", DAY_DATE)
    pipeline.publish(pipeline.validate(second, warehouse_url), warehouse_url, "trade", DAY_DATE)
    statuses = [(row[0], row[1]) for row in ledger_rows(db)]
    assert statuses == [(original.name, "loaded"), ("trade_copy.csv", "duplicate")]
    assert db.execute("SELECT count(*) FROM raw.trade").fetchone()[0] == ledger_rows(db)[0][3]


def test_the_ledger_refuses_a_second_loaded_row_for_the_same_bytes_or_name(db: psycopg.Connection) -> None:
    insert = (
        "INSERT INTO audit.load_ledger (load_id, feed, file_name, sha256, size_bytes, status)"
        " VALUES (nextval('audit.load_id_seq'), 'trade', %s, %s, 1, 'loaded')"
    )
    db.execute(insert, ("trade_a.csv", "abc"))
    with pytest.raises(psycopg.errors.UniqueViolation):
        db.execute(insert, ("trade_b.csv", "abc"))
    with pytest.raises(psycopg.errors.UniqueViolation):
        db.execute(insert, ("trade_a.csv", "def"))
    db.execute(insert.replace("'trade'", "'members'"), ("trade_a.csv", "abc"))  # another feed may


def test_a_build_does_not_publish_over_marts_another_cycle_published_since_it_began(
    db: psycopg.Connection, warehouse_url: str
) -> None:
    for schema in ("marts_build",):
        db.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    from sco_green.marts_publish import MART_TABLES

    for table in MART_TABLES:
        db.execute(f"CREATE TABLE marts_build.{table} (x int)")
    db.execute("INSERT INTO audit.marts_publications DEFAULT VALUES")
    with pytest.raises(PublishRefused, match="another cycle published marts"):
        publish_marts(warehouse_url, built_after=0)
    assert publish_marts(warehouse_url, built_after=1)
    assert db.execute("SELECT max(publication_id) FROM audit.marts_publications").fetchone()[0] == 2
