"""Helpers the reliability modules share: the ledger as rows, a CSV file's record count."""

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
