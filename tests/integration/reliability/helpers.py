"""Helpers the reliability modules share: the ledger as rows, a CSV file's record count, a load
that slipped into raw without validation."""

from __future__ import annotations

import csv
from pathlib import Path

import psycopg


def ledger_rows(db: psycopg.Connection) -> list[tuple]:
    """(file_name, status, rows_in, rows_loaded, rows_quarantined, reason) in load order."""
    return db.execute(
        "SELECT file_name, status, rows_in, rows_loaded, rows_quarantined, reason"
        " FROM audit.load_ledger ORDER BY load_id"
    ).fetchall()


def csv_records(path: Path, encoding: str = "utf-8-sig") -> int:
    """Data records in a CSV file (quoted newlines kept, blank lines not counted)."""
    with open(path, encoding=encoding, newline="") as handle:
        return sum(1 for row in csv.reader(handle) if row) - 1


def slip_unvalidated_trade_row(url: str) -> None:
    """A load that slipped into raw without validation: one trade row whose flow ('Q') breaks
    fct_trade's check of flow, under a ledger row of its own."""
    with psycopg.connect(url, autocommit=True) as conn:
        load_id = conn.execute("SELECT nextval('audit.load_id_seq')").fetchone()[0]
        conn.execute(
            "INSERT INTO audit.load_ledger (load_id, feed, file_name, sha256, size_bytes, rows_in, rows_loaded, status)"
            " VALUES (%s, 'trade', 'manual.csv', 'manual', 0, 1, 1, 'loaded')",
            (load_id,),
        )
        conn.execute(
            "INSERT INTO raw.trade (load_id, file_name, source_row, year, reporter_iso3, partner_iso3, flow,"
            " hs_version, hs6, trade_value_usd, net_weight_kg, revision)"
            " VALUES (%s, 'manual.csv', 1, 2025, 'CHN', 'KAZ', 'Q', 'HS2022', '854143', 1, 1, 0)",
            (load_id,),
        )
