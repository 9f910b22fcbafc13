"""Shared fixtures: a fresh database per test on the real PostgreSQL, a project-local var dir.

``WAREHOUSE_URL`` names the server the test run may use (default: the machine's
PostgreSQL at 127.0.0.1:5432); every test that needs a warehouse gets its own newly
created database on it, dropped afterwards.
"""

from __future__ import annotations

import csv
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

SERVER_URL = os.environ.get("WAREHOUSE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
RUN_ID = uuid.uuid4().hex[:8]


def _with_db(url: str, dbname: str) -> str:
    base, _, query = url.partition("?")
    base = base.rsplit("/", 1)[0]
    return f"{base}/{dbname}" + (f"?{query}" if query else "")


@pytest.fixture(scope="session", autouse=True)
def project_var(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Runtime state (Airflow home, logs) for the whole run, outside the working tree."""
    var = tmp_path_factory.mktemp("var")
    previous = os.environ.get("SCO_GREEN_VAR")
    os.environ["SCO_GREEN_VAR"] = str(var)
    os.environ.pop("WAREHOUSE_URL", None)
    yield var
    if previous is None:
        os.environ.pop("SCO_GREEN_VAR", None)
    else:
        os.environ["SCO_GREEN_VAR"] = previous


@pytest.fixture
def warehouse_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A brand-new database on the real server, exported as WAREHOUSE_URL for the test."""
    dbname = f"sco_test_{RUN_ID}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(SERVER_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    url = _with_db(SERVER_URL, dbname)
    monkeypatch.setenv("WAREHOUSE_URL", url)
    try:
        yield url
    finally:
        with psycopg.connect(SERVER_URL, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))


@pytest.fixture
def db(warehouse_url: str) -> Iterator[psycopg.Connection]:
    from sco_green.warehouse import bootstrap

    bootstrap(warehouse_url)
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        yield conn


def write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def trade_row(i: int, **changes: str) -> list[str]:
    """A valid trade record whose key differs by ``i``; ``changes`` override cells by column name."""
    from sco_green.feeds import TRADE

    values = ["2024", "CHN", "KAZ", "X", "HS2022", f"{850000 + i:06d}", "100.00", "10", "0"]
    row = dict(zip(TRADE.column_names, values, strict=True))
    row.update(changes)
    return list(row.values())
