"""Files landing in the warehouse: ledger decisions, encodings, CSV edge cases, crash and rerun."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import psycopg

from sco_green.feeds import MEMBERS, TRADE
from sco_green.generate import generate
from sco_green.pipeline import ingest_feed
from tests.conftest import trade_row, write_csv

DAY = date(2025, 12, 29)


def _ledger(db: psycopg.Connection) -> list[tuple]:
    return db.execute(
        "SELECT file_name, status, rows_in, rows_loaded, rows_quarantined, reason"
        " FROM audit.load_ledger ORDER BY load_id"
    ).fetchall()


def _records(path: Path, encoding: str = "utf-8-sig") -> int:
    with open(path, encoding=encoding, newline="") as handle:
        return sum(1 for row in csv.reader(handle) if row) - 1


def test_generated_clean_feeds_load_every_row(tmp_path: Path, db: psycopg.Connection, warehouse_url: str) -> None:
    generate(tmp_path, cycle=1)
    for feed in ("members", "trade", "recycling"):
        ingest_feed(feed, tmp_path, warehouse_url, DAY)
    rows = db.execute(
        "SELECT feed, file_name, encoding, status, rows_in, rows_loaded, rows_quarantined FROM audit.load_ledger"
    ).fetchall()
    assert len(rows) == 4
    for feed, name, encoding, status, rows_in, loaded, quarantined in rows:
        path = tmp_path / feed / name
        assert status == "loaded"
        assert rows_in == loaded == _records(path, encoding) and quarantined == 0
        raw = db.execute(f"SELECT count(*) FROM raw.{feed} WHERE file_name = %s", (name,)).fetchone()[0]
        assert raw == loaded


def test_same_inbox_twice_adds_no_ledger_rows(tmp_path: Path, db: psycopg.Connection, warehouse_url: str) -> None:
    write_csv(tmp_path / "trade" / "trade_a.csv", list(TRADE.column_names), [trade_row(1), trade_row(2)])
    ingest_feed("trade", tmp_path, warehouse_url, DAY)
    ingest_feed("trade", tmp_path, warehouse_url, DAY)
    assert [r[1] for r in _ledger(db)] == ["loaded"]
    assert db.execute("SELECT count(*) FROM raw.trade").fetchone()[0] == 2


def test_same_bytes_under_another_name_is_a_duplicate(
    tmp_path: Path, db: psycopg.Connection, warehouse_url: str
) -> None:
    a = write_csv(tmp_path / "trade" / "trade_a.csv", list(TRADE.column_names), [trade_row(1)])
    ingest_feed("trade", tmp_path, warehouse_url, DAY)
    (tmp_path / "trade" / "trade_b.csv").write_bytes(a.read_bytes())
    ingest_feed("trade", tmp_path, warehouse_url, DAY)
    ledger = _ledger(db)
    assert [(r[0], r[1]) for r in ledger] == [("trade_a.csv", "loaded"), ("trade_b.csv", "duplicate")]
    assert "trade_a.csv" in ledger[1][5]
    assert db.execute("SELECT count(*) FROM raw.trade").fetchone()[0] == 1


def test_corrected_redrop_replaces_every_row_of_the_old_version(
    tmp_path: Path, db: psycopg.Connection, warehouse_url: str
) -> None:
    path = tmp_path / "trade" / "trade_a.csv"
    write_csv(path, list(TRADE.column_names), [trade_row(1), trade_row(2), trade_row(3)])
    ingest_feed("trade", tmp_path, warehouse_url, DAY)
    write_csv(path, list(TRADE.column_names), [trade_row(1, trade_value_usd="555.00")])
    ingest_feed("trade", tmp_path, warehouse_url, DAY)
    ledger = db.execute("SELECT load_id, status, reason FROM audit.load_ledger ORDER BY load_id").fetchall()
    assert [r[1] for r in ledger] == ["superseded", "loaded"]
    assert f"superseded by load {ledger[1][0]}" in ledger[0][2]
    raw = db.execute("SELECT load_id, trade_value_usd FROM raw.trade").fetchall()
    assert raw == [(ledger[1][0], 555)]


def test_gb18030_members_keep_their_chinese_names(tmp_path: Path, db: psycopg.Connection, warehouse_url: str) -> None:
    row = [
        "2025-12-29",
        "M-1",
        "Tianjin Ziya Recycling Co.",
        "天津子牙循环经济有限公司",
        "enterprise",
        "CHN",
        "resource_recycling",
        "2025-09-20",
    ]
    write_csv(tmp_path / "members" / "members_20251229.csv", list(MEMBERS.column_names), [row], encoding="gb18030")
    ingest_feed("members", tmp_path, warehouse_url, DAY)
    assert db.execute("SELECT encoding, status FROM audit.load_ledger").fetchone() == ("gb18030", "loaded")
    assert db.execute("SELECT name_zh FROM raw.members").fetchone()[0] == "天津子牙循环经济有限公司"


def test_utf8_bom_does_not_hide_the_first_column(tmp_path: Path, db: psycopg.Connection, warehouse_url: str) -> None:
    write_csv(tmp_path / "trade" / "trade_bom.csv", list(TRADE.column_names), [trade_row(1)], encoding="utf-8-sig")
    ingest_feed("trade", tmp_path, warehouse_url, DAY)
    assert db.execute("SELECT encoding, status, rows_loaded FROM audit.load_ledger").fetchone() == (
        "utf-8-sig",
        "loaded",
        1,
    )


def test_missing_column_rejects_the_file_with_the_column_named(
    tmp_path: Path, db: psycopg.Connection, warehouse_url: str
) -> None:
    header = [c for c in TRADE.column_names if c != "flow"]
    write_csv(tmp_path / "trade" / "trade_x.csv", header, [["2024", "CHN", "KAZ", "HS2022", "850001", "1", "1", "0"]])
    ingest_feed("trade", tmp_path, warehouse_url, DAY)
    [(name, status, _, loaded, _, reason)] = _ledger(db)
    assert (status, loaded) == ("rejected", 0)
    assert "flow" in reason
    assert db.execute("SELECT count(*) FROM raw.trade").fetchone()[0] == 0


def test_header_only_file_loads_zero_rows(tmp_path: Path, db: psycopg.Connection, warehouse_url: str) -> None:
    write_csv(tmp_path / "trade" / "trade_empty.csv", list(TRADE.column_names), [])
    ingest_feed("trade", tmp_path, warehouse_url, DAY)
    assert [r[1:5] for r in _ledger(db)] == [("loaded", 0, 0, 0)]


def test_undecodable_file_is_rejected(tmp_path: Path, db: psycopg.Connection, warehouse_url: str) -> None:
    (tmp_path / "trade").mkdir()
    (tmp_path / "trade" / "trade_bin.csv").write_bytes(b"year,flow\n\x81\x20\xff\xfe\n")
    ingest_feed("trade", tmp_path, warehouse_url, DAY)
    [(_, status, _, _, _, reason)] = _ledger(db)
    assert status == "rejected" and reason.startswith("encoding:")


def test_quoted_newline_and_comma_stay_in_one_record(
    tmp_path: Path, db: psycopg.Connection, warehouse_url: str
) -> None:
    header = [*TRADE.column_names, "remarks"]
    rows = [trade_row(1) + ["line one\nline two, with comma"], trade_row(2) + ['say "hi"']]
    write_csv(tmp_path / "trade" / "trade_q.csv", header, rows)
    ingest_feed("trade", tmp_path, warehouse_url, DAY)
    assert _ledger(db)[0][1:5] == ("loaded", 2, 2, 0)
    assert db.execute("SELECT source_row, hs6 FROM raw.trade ORDER BY 1").fetchall() == [(1, "850001"), (2, "850002")]


def test_crlf_and_trailing_blank_lines_change_nothing(
    tmp_path: Path, db: psycopg.Connection, warehouse_url: str
) -> None:
    text = ",".join(TRADE.column_names) + "\r\n" + ",".join(trade_row(1)) + "\r\n" + ",".join(trade_row(2))
    (tmp_path / "trade").mkdir()
    (tmp_path / "trade" / "trade_crlf.csv").write_bytes((text + "\r\n\r\n\r\n").encode())
    ingest_feed("trade", tmp_path, warehouse_url, DAY)
    assert _ledger(db)[0][1:5] == ("loaded", 2, 2, 0)


def test_hostile_header_is_quoted_not_executed(tmp_path: Path, db: psycopg.Connection, warehouse_url: str) -> None:
    evil = 'a"; drop table audit.load_ledger; --'
    write_csv(tmp_path / "trade" / "trade_evil.csv", [*TRADE.column_names, evil], [trade_row(1) + ["x"]])
    write_csv(tmp_path / "trade" / "trade_evil2.csv", [evil, *TRADE.column_names[1:]], [trade_row(2)])
    ingest_feed("trade", tmp_path, warehouse_url, DAY)
    ledger = _ledger(db)
    assert [(r[0], r[1]) for r in ledger] == [("trade_evil.csv", "loaded"), ("trade_evil2.csv", "rejected")]
    assert evil in ledger[0][5]
    warn = db.execute("SELECT observed->'extra_columns' FROM audit.validation_results WHERE expectation LIKE 'extra%'")
    assert warn.fetchone()[0] == [evil]


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
    [(name, status, rows_in, loaded, quarantined, _)] = _ledger(db)
    assert status == "loaded" and rows_in == loaded == _records(tmp_path / "trade" / name)
    assert db.execute("SELECT count(*) FROM raw.trade").fetchone()[0] == loaded
    left = db.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'landing'").fetchone()[0]
    assert left == 0
