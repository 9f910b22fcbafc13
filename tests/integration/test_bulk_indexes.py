"""A bulk publish builds the raw table's indexes after the insert, and ends with the same ones."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import psycopg
import pytest

from sco_green.bulk_indexes import indexes_built_after, worth_deferring
from sco_green.feeds import TRADE
from sco_green.pipeline import ingest_feed
from tests.conftest import trade_row, write_csv


def _index_definitions(conn: psycopg.Connection) -> list[str]:
    return [
        row[0]
        for row in conn.execute(
            "SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = 'raw.trade'::regclass ORDER BY 1"
        )
    ]


def test_only_an_insert_at_least_the_size_of_the_table_defers_its_indexes() -> None:
    assert worth_deferring(0, 5)
    assert worth_deferring(1_000, 1_000)
    assert not worth_deferring(1_000, 999)
    assert not worth_deferring(0, 0)


def test_first_load_into_an_empty_table_ends_with_the_bootstrap_indexes(
    tmp_path: Path, db: psycopg.Connection, warehouse_url: str
) -> None:
    before = _index_definitions(db)
    assert len(before) == 1  # the primary key
    write_csv(tmp_path / "trade" / "trade_2024_r0.csv", TRADE.column_names, [trade_row(i) for i in range(50)])
    ingest_feed("trade", tmp_path, warehouse_url, date(2025, 1, 1))
    assert db.execute("SELECT count(*) FROM raw.trade").fetchone()[0] == 50
    assert _index_definitions(db) == before
    kind = db.execute("SELECT contype FROM pg_constraint WHERE conname = 'trade_pkey'").fetchone()
    assert kind == ("p",)


def test_a_failing_bulk_insert_leaves_the_indexes_in_place(db: psycopg.Connection) -> None:
    before = _index_definitions(db)
    with pytest.raises(psycopg.errors.NotNullViolation), db.transaction():
        with indexes_built_after(db, "raw", "trade", defer=True):
            assert _index_definitions(db) == []
            db.execute("INSERT INTO raw.trade (load_id, file_name, source_row) VALUES (1, NULL, 1)")
    assert _index_definitions(db) == before


def test_rebuilt_primary_key_still_rejects_a_repeated_row(db: psycopg.Connection) -> None:
    with db.transaction(), indexes_built_after(db, "raw", "trade", defer=True):
        db.execute("INSERT INTO raw.trade (load_id, file_name, source_row) VALUES (1, 'f.csv', 1)")
    with pytest.raises(psycopg.errors.UniqueViolation):
        db.execute("INSERT INTO raw.trade (load_id, file_name, source_row) VALUES (1, 'f.csv', 1)")
