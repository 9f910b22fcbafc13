"""The two ways a file lands (its bytes straight to the server's CSV parser, or through the
csv module) give the same landing table, row for row."""

from __future__ import annotations

import csv
from pathlib import Path

import psycopg
import pytest

from expectations.feed_rules import screen_for
from sco_green import landing
from sco_green.feeds import TRADE

# Header in another order than the contract's, with an extra column, UTF-8 text and empty cells.
HEADER = ["HS6", *[c for c in TRADE.column_names if c != "hs6"], "备注"]
RECORDS = [
    ["850760", "2024", "CHN", "KAZ", "X", "HS2022", "1000.50", "20", "0", "天津子牙"],
    ["854140", "2024", "KAZ", "CHN", "M", "HS2017", "77", "", "1", ""],
    ["", "", "", "", "", "", "", "", "", ""],
    ["bad hs6", "20x4", "ZZZ", "WLD", "Q", "HS1992", "-1", "abc", "-2", "note with spaces "],
]


def _write(path: Path, quoting: int, encoding: str, ending: str) -> Path:
    with open(path, "w", newline="", encoding=encoding) as handle:
        writer = csv.writer(handle, quoting=quoting, lineterminator=ending)
        writer.writerow(HEADER)
        writer.writerows(RECORDS)
    return path


def _land(conn: psycopg.Connection, path: Path, encoding: str, load_id: int) -> list[tuple]:
    table = landing.landing_table("trade", load_id)
    with conn.transaction():
        landed = landing.land_file(conn, TRADE, path, encoding, table)
    assert landed.rows_in == len(RECORDS)
    assert landed.extra_columns == ["备注"]
    return conn.execute(f"SELECT * FROM {table} ORDER BY source_row").fetchall()


@pytest.mark.parametrize(
    ("encoding", "ending"), [("utf-8", "\n"), ("utf-8", "\r\n"), ("utf-8-sig", "\r\n"), ("gb18030", "\n")]
)
def test_a_plain_file_lands_as_the_csv_module_would_land_it(
    tmp_path: Path, db: psycopg.Connection, encoding: str, ending: str
) -> None:
    plain = _write(tmp_path / "plain.csv", csv.QUOTE_MINIMAL, encoding, ending)
    quoted = _write(tmp_path / "quoted.csv", csv.QUOTE_ALL, encoding, ending)
    assert landing.plain_records(plain, len(HEADER)) == len(RECORDS)
    assert landing.plain_records(quoted, len(HEADER)) is None

    straight = _land(db, plain, encoding, 1)
    judged = _land(db, quoted, encoding, 2)
    assert straight == judged
    assert [row[0] for row in straight] == [1, 2, 3, 4]  # source_row: the record number
    assert straight[0][-4] == "天津子牙" and straight[1][-4] is None  # extras land in x_1
    assert all(row[-3] is False and row[-2] is None for row in straight)  # not ragged
    assert all(row[-1] is False for row in straight)  # landed without a screen: nothing cleared


def test_a_count_the_server_disagrees_with_lands_nothing(
    tmp_path: Path, db: psycopg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = _write(tmp_path / "plain.csv", csv.QUOTE_MINIMAL, "utf-8", "\n")
    monkeypatch.setattr(landing, "plain_records", lambda path, width: len(RECORDS) + 1)
    table = landing.landing_table("trade", 3)
    with pytest.raises(RuntimeError, match="read 4 records where 5 were counted"), db.transaction():
        landing.land_file(db, TRADE, plain, "utf-8", table)
    assert db.execute("SELECT to_regclass(%s)", (table,)).fetchone()[0] is None


@pytest.mark.parametrize(("screen_bytes", "number_bytes"), [(1, 1), (64, 16), (200, 1000)])
def test_a_plain_file_lands_the_same_whatever_its_pieces(
    tmp_path: Path, db: psycopg.Connection, monkeypatch: pytest.MonkeyPatch, screen_bytes: int, number_bytes: int
) -> None:
    plain = _write(tmp_path / "plain.csv", csv.QUOTE_MINIMAL, "utf-8", "\r\n")

    def land(load_id: int) -> list[tuple]:
        table = landing.landing_table("trade", load_id)
        with db.transaction():
            landing.land_file(db, TRADE, plain, "utf-8", table, screen_for("trade"))
        return db.execute(f"SELECT * FROM {table} ORDER BY source_row").fetchall()

    whole = land(1)
    monkeypatch.setattr(landing, "SCREEN_BYTES", screen_bytes)
    monkeypatch.setattr(landing, "NUMBER_BYTES", number_bytes)
    assert land(2) == whole
    assert [row[0] for row in whole] == [1, 2, 3, 4] and whole[0][-1] is True  # the valid row is screened
