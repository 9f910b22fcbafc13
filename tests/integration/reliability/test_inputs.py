"""Reliability matrix, inputs: ledger decisions, encodings, CSV edge cases, a 5M-row file."""

from __future__ import annotations

import random
import subprocess
import sys
from datetime import date
from pathlib import Path

import psycopg

from sco_green.cli import main
from sco_green.feeds import MEMBERS, TRADE
from sco_green.generate import SCALES, generate, write_trade
from sco_green.pipeline import ingest_feed
from tests.conftest import trade_row, write_csv
from tests.integration.reliability.helpers import csv_records, ledger_rows

DAY = date(2025, 12, 29)


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
        assert rows_in == loaded == csv_records(path, encoding) and quarantined == 0
        raw = db.execute(f"SELECT count(*) FROM raw.{feed} WHERE file_name = %s", (name,)).fetchone()[0]
        assert raw == loaded


def test_same_inbox_twice_adds_no_ledger_rows(tmp_path: Path, db: psycopg.Connection, warehouse_url: str) -> None:
    write_csv(tmp_path / "trade" / "trade_a.csv", list(TRADE.column_names), [trade_row(1), trade_row(2)])
    ingest_feed("trade", tmp_path, warehouse_url, DAY)
    ingest_feed("trade", tmp_path, warehouse_url, DAY)
    assert [r[1] for r in ledger_rows(db)] == ["loaded"]
    assert db.execute("SELECT count(*) FROM raw.trade").fetchone()[0] == 2


def test_same_bytes_under_another_name_is_a_duplicate(
    tmp_path: Path, db: psycopg.Connection, warehouse_url: str
) -> None:
    a = write_csv(tmp_path / "trade" / "trade_a.csv", list(TRADE.column_names), [trade_row(1)])
    ingest_feed("trade", tmp_path, warehouse_url, DAY)
    (tmp_path / "trade" / "trade_b.csv").write_bytes(a.read_bytes())
    ingest_feed("trade", tmp_path, warehouse_url, DAY)
    ledger = ledger_rows(db)
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
    [(name, status, _, loaded, _, reason)] = ledger_rows(db)
    assert (status, loaded) == ("rejected", 0)
    assert "flow" in reason
    assert db.execute("SELECT count(*) FROM raw.trade").fetchone()[0] == 0


def test_members_file_named_with_an_impossible_date_is_rejected_and_loads_once_renamed(
    tmp_path: Path, db: psycopg.Connection, warehouse_url: str
) -> None:
    row = ["2025-09-30", "M-1", "Ziya Co.", "", "enterprise", "CHN", "resource_recycling", "2025-09-01"]
    bad = write_csv(tmp_path / "members" / "members_20250931.csv", list(MEMBERS.column_names), [row])
    ingest_feed("members", tmp_path, warehouse_url, DAY)
    [(name, status, rows_in, loaded, _, reason)] = ledger_rows(db)
    assert (name, status, rows_in, loaded) == ("members_20250931.csv", "rejected", None, 0)
    assert "does not carry a real date" in reason and "members_YYYYMMDD.csv" in reason
    assert db.execute("SELECT count(*) FROM raw.members").fetchone()[0] == 0
    bad.rename(tmp_path / "members" / "members_20250930.csv")
    ingest_feed("members", tmp_path, warehouse_url, DAY)
    assert [r[:4] for r in ledger_rows(db)][1:] == [("members_20250930.csv", "loaded", 1, 1)]
    assert db.execute("SELECT member_id FROM raw.members").fetchall() == [("M-1",)]


def test_misnamed_snapshot_and_its_correctly_named_copy_in_one_inbox_load_once(
    tmp_path: Path, db: psycopg.Connection, warehouse_url: str
) -> None:
    row = ["2025-09-30", "M-1", "Ziya Co.", "", "enterprise", "CHN", "resource_recycling", "2025-09-01"]
    bad = write_csv(tmp_path / "members" / "members_2025093.csv", list(MEMBERS.column_names), [row])
    (tmp_path / "members" / "members_20250930.csv").write_bytes(bad.read_bytes())
    ingest_feed("members", tmp_path, warehouse_url, DAY)
    assert [r[:2] for r in ledger_rows(db)] == [("members_2025093.csv", "rejected"), ("members_20250930.csv", "loaded")]
    assert db.execute("SELECT count(*) FROM raw.members").fetchone()[0] == 1


def test_header_only_file_loads_zero_rows(tmp_path: Path, db: psycopg.Connection, warehouse_url: str) -> None:
    write_csv(tmp_path / "trade" / "trade_empty.csv", list(TRADE.column_names), [])
    ingest_feed("trade", tmp_path, warehouse_url, DAY)
    assert [r[1:5] for r in ledger_rows(db)] == [("loaded", 0, 0, 0)]


def test_undecodable_file_is_rejected(tmp_path: Path, db: psycopg.Connection, warehouse_url: str) -> None:
    (tmp_path / "trade").mkdir()
    (tmp_path / "trade" / "trade_bin.csv").write_bytes(b"year,flow\n\x81\x20\xff\xfe\n")
    ingest_feed("trade", tmp_path, warehouse_url, DAY)
    [(_, status, _, _, _, reason)] = ledger_rows(db)
    assert status == "rejected" and reason.startswith("encoding:")


def test_quoted_newline_and_comma_stay_in_one_record(
    tmp_path: Path, db: psycopg.Connection, warehouse_url: str
) -> None:
    header = [*TRADE.column_names, "remarks"]
    rows = [trade_row(1) + ["line one\nline two, with comma"], trade_row(2) + ['say "hi"']]
    write_csv(tmp_path / "trade" / "trade_q.csv", header, rows)
    ingest_feed("trade", tmp_path, warehouse_url, DAY)
    assert ledger_rows(db)[0][1:5] == ("loaded", 2, 2, 0)
    assert db.execute("SELECT source_row, hs6 FROM raw.trade ORDER BY 1").fetchall() == [(1, "850001"), (2, "850002")]


def test_crlf_and_trailing_blank_lines_change_nothing(
    tmp_path: Path, db: psycopg.Connection, warehouse_url: str
) -> None:
    text = ",".join(TRADE.column_names) + "\r\n" + ",".join(trade_row(1)) + "\r\n" + ",".join(trade_row(2))
    (tmp_path / "trade").mkdir()
    (tmp_path / "trade" / "trade_crlf.csv").write_bytes((text + "\r\n\r\n\r\n").encode())
    ingest_feed("trade", tmp_path, warehouse_url, DAY)
    assert ledger_rows(db)[0][1:5] == ("loaded", 2, 2, 0)


def test_every_input_case_in_two_nights_reaches_ledger_quarantine_and_marts(tmp_path: Path, warehouse_url: str) -> None:
    """All the input cases side by side through the real nightly DAGs, then the marts."""
    inbox = tmp_path / "inbox"
    trade = inbox / "trade"
    columns = list(TRADE.column_names)
    a = write_csv(trade / "trade_a.csv", columns, [trade_row(1), trade_row(2), trade_row(3)])
    (trade / "trade_a_copy.csv").write_bytes(a.read_bytes())
    write_csv(trade / "trade_bom.csv", columns, [trade_row(4)], encoding="utf-8-sig")
    crlf = ",".join(columns) + "\r\n" + ",".join(trade_row(5)) + "\r\n" + ",".join(trade_row(6)) + "\r\n\r\n\r\n"
    (trade / "trade_crlf.csv").write_bytes(crlf.encode())
    write_csv(
        trade / "trade_quoted.csv",
        [*columns, "remarks"],
        [trade_row(7) + ["line one\nline two, with comma"], trade_row(8) + ['say "hi"']],
    )
    write_csv(trade / "trade_empty.csv", columns, [])
    write_csv(trade / "trade_missing.csv", [c for c in columns if c != "flow"], [trade_row(9)[:3] + trade_row(9)[4:]])
    (trade / "trade_bin.csv").write_bytes(b"year,flow\n\x81\x20\xff\xfe\n")
    write_csv(trade / "trade_one_bad.csv", columns, [trade_row(i) for i in range(10, 19)] + [trade_row(19, flow="Q")])
    member = ["2025-12-29", "M-1", "Ziya Recycling", "天津子牙循环经济有限公司", "enterprise", "CHN"]
    member += ["resource_recycling", "2025-09-20"]
    write_csv(inbox / "members" / "members_20251229.csv", list(MEMBERS.column_names), [member], "gb18030")

    assert main(["nightly", "--inbox", str(inbox), "--logical-date", "2025-12-29"]) == 0
    # Night 2: trade_a.csv is re-dropped, corrected, under the same name.
    write_csv(a, columns, [trade_row(1, trade_value_usd="555.00"), trade_row(2)])
    assert main(["nightly", "--inbox", str(inbox), "--logical-date", "2025-12-30"]) == 0

    with psycopg.connect(warehouse_url) as db:
        ledger = {r[0]: r[1:5] for r in ledger_rows(db)}
        quarantine = db.execute("SELECT file_name, row_number, rules FROM audit.quarantine").fetchall()
        facts = db.execute("SELECT source_file, source_row, trade_value_usd FROM marts.fct_trade").fetchall()
        name_zh = db.execute("SELECT name_zh FROM raw.members").fetchall()
        members = db.execute("SELECT member_id, name_en FROM marts.dim_members").fetchall()
    assert {k: v[0] for k, v in ledger.items()} == {
        "trade_a.csv": "loaded",  # the second version; the first is superseded (same name, one row each)
        "trade_a_copy.csv": "duplicate",
        "trade_bom.csv": "loaded",
        "trade_crlf.csv": "loaded",
        "trade_quoted.csv": "loaded",
        "trade_empty.csv": "loaded",
        "trade_missing.csv": "rejected",
        "trade_bin.csv": "rejected",
        "trade_one_bad.csv": "loaded",
        "members_20251229.csv": "loaded",
    }
    assert ledger["trade_crlf.csv"] == ("loaded", 2, 2, 0)
    assert ledger["trade_empty.csv"] == ("loaded", 0, 0, 0)
    assert ledger["trade_one_bad.csv"] == ("loaded", 10, 9, 1)
    assert [(f, r) for f, r, _ in quarantine] == [("trade_one_bad.csv", 10)]
    expected = {("trade_a.csv", 1), ("trade_a.csv", 2), ("trade_bom.csv", 1), ("trade_crlf.csv", 1)}
    expected |= {("trade_crlf.csv", 2), ("trade_quoted.csv", 1), ("trade_quoted.csv", 2)}
    expected |= {("trade_one_bad.csv", r) for r in range(1, 10)}
    assert {(f, r) for f, r, _ in facts} == expected
    assert {(f, r): v for f, r, v in facts}[("trade_a.csv", 1)] == 555
    assert name_zh == [("天津子牙循环经济有限公司",)]
    assert members == [("M-1", "Ziya Recycling")]


def test_five_million_row_file_is_ingested_in_bounded_memory(
    tmp_path: Path, db: psycopg.Connection, warehouse_url: str
) -> None:
    """The ingest streams: peak RSS of the whole ingest process stays far below the file's size
    in memory (a 5M-row file is 250 MB on disk, several GB as Python objects)."""
    [path] = write_trade(tmp_path / "inbox", random.Random(7), SCALES["large"], cycle=1, faults=False)
    rows = csv_records(path)
    assert rows >= 5_000_000
    code = (
        "import resource, sys; from datetime import date; from sco_green.pipeline import ingest_feed\n"
        "ingest_feed('trade', sys.argv[1], sys.argv[2], date(2025, 12, 29))\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "inbox"), warehouse_url], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    peak_kib = int(done.stdout.strip().splitlines()[-1])
    assert peak_kib < 1024 * 1024, f"peak RSS {peak_kib / 1024:.0f} MiB"
    assert [r[1:5] for r in ledger_rows(db)] == [("loaded", rows, rows, 0)]
    assert db.execute("SELECT count(*) FROM audit.quarantine").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM raw.trade").fetchone()[0] == rows
