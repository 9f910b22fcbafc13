"""``sco-green nightly`` end to end: the real DAGs via dag.test() over generated nights."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest

from sco_green.cli import main
from sco_green.dbt_runner import run_dbt
from sco_green.generate import CYCLE_DATES, generate
from sco_green.marts_publish import mart_digests
from sco_green.paths import var_dir


def _ledger(url: str) -> dict[str, tuple]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT file_name, status, rows_in, rows_loaded, rows_quarantined, feed"
            " FROM audit.load_ledger ORDER BY load_id"
        ).fetchall()
    return {r[0]: r[1:] for r in rows}


def test_three_nights_give_the_expected_ledger_and_raw_counts(
    tmp_path: Path, warehouse_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    inbox = tmp_path / "inbox"
    (inbox / "trade").mkdir(parents=True)
    (inbox / "trade" / "trade_2026.xlsx").write_bytes(b"PK\x03\x04")  # no feed reads it: named, not lost
    for night, day in enumerate(CYCLE_DATES, start=1):
        generate(inbox, faults=True, cycle=night)
        assert main(["nightly", "--inbox", str(inbox), "--logical-date", day.isoformat()]) == 0
    out = capsys.readouterr().out
    assert "ingest_members" in out and "build_warehouse" in out
    assert out.count("warning: 1 file(s) not read (each feed reads only <feed>/*.csv): trade/trade_2026.xlsx\n") == 3
    ledger = _ledger(warehouse_url)
    statuses = {name: row[0] for name, row in ledger.items()}
    assert statuses == {
        "members_20251229.csv": "loaded",
        "members_20251230.csv": "loaded",
        "members_20251231.csv": "loaded",
        "trade_2020_2025_r0.csv": "loaded",  # the corrected re-drop; its first version is superseded
        "trade_2020_2025_r0_copy.csv": "duplicate",
        "trade_2025_r1.csv": "loaded",
        "trade_missing_column.csv": "rejected",
        "trade_legacy_latin1.csv": "rejected",
        "tickets_ZIYA_2025H1.csv": "loaded",
        "tickets_BATKEN_2025H1.csv": "loaded",
        "tickets_ZIYA_2025H2.csv": "loaded",
        "tickets_BATKEN_2025H2.csv": "loaded",
        "tickets_ZIYA_2025H2_corrections.csv": "loaded",
    }
    with psycopg.connect(warehouse_url) as conn:
        superseded = conn.execute(
            "SELECT count(*) FROM audit.load_ledger"
            " WHERE status = 'superseded' AND file_name = 'trade_2020_2025_r0.csv'"
        ).fetchone()[0]
        assert superseded == 1
        for name, (status, rows_in, loaded, quarantined, feed) in ledger.items():
            raw = conn.execute(f"SELECT count(*) FROM raw.{feed} WHERE file_name = %s", (name,)).fetchone()[0]
            assert raw == loaded, name
            if status == "loaded":
                assert rows_in == loaded + quarantined, name
    docs = var_dir() / "data_docs" / "index.html"
    assert "members_contract" in docs.read_text(encoding="utf-8")
    assert "warehouse_url" not in (var_dir() / "gx" / "great_expectations.yml").read_text().lower()

    # The incremental nights give exactly what a full refresh gives.
    incremental = mart_digests(warehouse_url)
    assert all(incremental.values())
    run_dbt(["build", "--full-refresh", "--vars", '{"marts_schema": "marts_build"}'])
    assert mart_digests(warehouse_url, "marts_build") == incremental
    # Night 3 again: everything is already in the ledger.
    with psycopg.connect(warehouse_url) as conn:
        before = conn.execute("SELECT count(*) FROM audit.load_ledger").fetchone()[0]
    assert main(["nightly", "--inbox", str(inbox), "--logical-date", CYCLE_DATES[-1].isoformat()]) == 0
    with psycopg.connect(warehouse_url) as conn:
        assert conn.execute("SELECT count(*) FROM audit.load_ledger").fetchone()[0] == before


def test_failing_task_fails_the_cycle_with_a_one_line_cause(
    tmp_path: Path, warehouse_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    inbox = tmp_path / "inbox"
    generate(inbox, cycle=1)
    assert main(["nightly", "--inbox", str(inbox / "nope"), "--logical-date", "2025-12-29"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("sco-green: error:") and "nope" in err[0]


def test_unreachable_warehouse_is_a_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    generate(tmp_path, cycle=1)
    monkeypatch.setenv("WAREHOUSE_URL", "postgresql://postgres@127.0.0.1:1/none")
    assert main(["nightly", "--inbox", str(tmp_path), "--logical-date", "2025-12-29"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "warehouse unreachable" in err[0]


def test_embedded_default_runs_a_night_and_stops_the_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WAREHOUSE_URL", raising=False)
    var = tmp_path / "var"
    monkeypatch.setenv("SCO_GREEN_VAR", str(var))
    inbox = tmp_path / "inbox"
    generate(inbox, cycle=1)
    assert main(["nightly", "--inbox", str(inbox), "--logical-date", "2025-12-29"]) == 0
    pgdata = var / "warehouse"
    assert (pgdata / "PG_VERSION").read_text().strip() == "18"
    assert not (pgdata / "postmaster.pid").exists(), "embedded warehouse left running"
    assert "WAREHOUSE_URL" not in os.environ
    from sco_green.warehouse import embedded_warehouse

    with embedded_warehouse(pgdata) as url, psycopg.connect(url) as conn:
        statuses = conn.execute("SELECT status, count(*) FROM audit.load_ledger GROUP BY 1").fetchall()
    assert statuses == [("loaded", 4)]
