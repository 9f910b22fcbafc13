"""raw.<feed> partitioned by load: large loads attach as partitions of their own, small ones go to
the default partition, a re-dropped file's rows leave whichever holds them, and an older
unpartitioned raw table becomes the default partition with its rows."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import psycopg
import pytest

from sco_green import raw_tables
from sco_green.feeds import TRADE
from sco_green.pipeline import ingest_feed
from sco_green.warehouse import bootstrap
from tests.conftest import trade_row, write_csv

DAY = date(2025, 12, 29)


def _partitions(db: psycopg.Connection) -> dict[str, int]:
    """Each partition of raw.trade and the rows it holds."""
    names = db.execute(
        "SELECT c.relname FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'raw.trade'::regclass ORDER BY 1"
    ).fetchall()
    return {name: db.execute(f"SELECT count(*) FROM raw.{name}").fetchone()[0] for (name,) in names}


def _load_ids(db: psycopg.Connection) -> dict[str, int]:
    return dict(db.execute("SELECT file_name, load_id FROM audit.load_ledger WHERE status = 'loaded'").fetchall())


@pytest.fixture
def small_partitions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loads of five rows or more count as large, so a test file of a few rows gets its own partition."""
    monkeypatch.setattr(raw_tables, "OWN_PARTITION_ROWS", 5)


def test_a_large_load_is_attached_as_its_own_partition_with_only_its_valid_rows(
    small_partitions: None, tmp_path: Path, db: psycopg.Connection, warehouse_url: str
) -> None:
    rows = [trade_row(i) for i in range(8)] + [trade_row(90, flow="Q")]
    write_csv(tmp_path / "trade" / "trade_big.csv", list(TRADE.column_names), rows)
    ingest_feed("trade", tmp_path, warehouse_url, DAY)
    load_id = _load_ids(db)["trade_big.csv"]
    assert _partitions(db) == {f"trade_load_{load_id}": 8, "trade_rows": 0}
    assert db.execute("SELECT count(*), min(load_id), max(load_id) FROM raw.trade").fetchone() == (8, load_id, load_id)
    assert db.execute("SELECT count(*) FROM raw.trade WHERE flow = 'Q'").fetchone()[0] == 0
    key = db.execute(
        "SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = %s::regclass AND indisprimary",
        (f"raw.trade_load_{load_id}",),
    ).fetchone()[0]
    assert "(load_id, source_row)" in key
    assert db.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'landing'").fetchone()[0] == 0


def test_a_small_load_is_inserted_into_the_default_partition(
    tmp_path: Path, db: psycopg.Connection, warehouse_url: str
) -> None:
    write_csv(tmp_path / "trade" / "trade_small.csv", list(TRADE.column_names), [trade_row(i) for i in range(3)])
    ingest_feed("trade", tmp_path, warehouse_url, DAY)
    assert _partitions(db) == {"trade_rows": 3}
    assert db.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'landing'").fetchone()[0] == 0


def test_a_redropped_large_file_replaces_its_partition_and_keeps_the_other_loads(
    small_partitions: None, tmp_path: Path, db: psycopg.Connection, warehouse_url: str
) -> None:
    header = list(TRADE.column_names)
    write_csv(tmp_path / "trade" / "trade_big.csv", header, [trade_row(i) for i in range(6)])
    write_csv(tmp_path / "trade" / "trade_small.csv", header, [trade_row(50 + i) for i in range(2)])
    ingest_feed("trade", tmp_path, warehouse_url, DAY)
    first = _load_ids(db)
    write_csv(tmp_path / "trade" / "trade_big.csv", header, [trade_row(i, revision="1") for i in range(7)])
    ingest_feed("trade", tmp_path, warehouse_url, date(2025, 12, 30))
    second = _load_ids(db)
    assert second["trade_small.csv"] == first["trade_small.csv"]
    assert second["trade_big.csv"] != first["trade_big.csv"]
    assert _partitions(db) == {f"trade_load_{second['trade_big.csv']}": 7, "trade_rows": 2}
    assert db.execute("SELECT count(*) FROM raw.trade WHERE load_id = %s", (first["trade_big.csv"],)).fetchone()[0] == 0
    status = db.execute("SELECT status FROM audit.load_ledger WHERE load_id = %s", (first["trade_big.csv"],)).fetchone()
    assert status == ("superseded",)


def test_bootstrap_makes_an_unpartitioned_raw_table_the_default_partition_keeping_its_rows(
    db: psycopg.Connection, warehouse_url: str
) -> None:
    columns = ", ".join(f"{c.name} {c.sql_type}" for c in TRADE.columns)
    db.execute("DROP TABLE raw.trade")
    db.execute(
        "CREATE TABLE raw.trade (load_id bigint NOT NULL, file_name text NOT NULL, source_row bigint NOT NULL, "
        f"{columns}, PRIMARY KEY (load_id, source_row))"
    )
    db.execute(
        "INSERT INTO raw.trade (load_id, file_name, source_row, year, hs6) VALUES (7, 'old.csv', 1, 2024, '850760')"
    )
    bootstrap(warehouse_url)
    assert db.execute("SELECT relkind FROM pg_class WHERE oid = 'raw.trade'::regclass").fetchone() == ("p",)
    assert _partitions(db) == {"trade_rows": 1}
    assert db.execute("SELECT load_id, file_name, hs6 FROM raw.trade").fetchall() == [(7, "old.csv", "850760")]
    bootstrap(warehouse_url)  # and again: nothing left to convert
    assert _partitions(db) == {"trade_rows": 1}
