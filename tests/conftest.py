"""Shared fixtures: a fresh database per test on the real PostgreSQL, a project-local var dir.

``WAREHOUSE_URL`` names the server the test run may use (default: the machine's
PostgreSQL at 127.0.0.1:5432); every test that needs a warehouse gets its own newly
created database on it, dropped afterwards.
"""

from __future__ import annotations

import contextlib
import csv
import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

pytest_plugins = ["tests.alert_receivers"]

SERVER_URL = os.environ.get("WAREHOUSE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
RUN_ID = uuid.uuid4().hex[:8]


def _with_db(url: str, dbname: str) -> str:
    base, _, query = url.partition("?")
    base = base.rsplit("/", 1)[0]
    return f"{base}/{dbname}" + (f"?{query}" if query else "")


def pytest_configure(config: pytest.Config) -> None:
    """Before anything imports Airflow: a run-local var dir, Airflow home and dbt manifest.

    Airflow reads its configuration once, at import, so the project-local home must be in
    the environment before test modules (the DagBag test) are collected.
    """
    var = Path(tempfile.mkdtemp(prefix="sco-green-var-"))
    os.environ["SCO_GREEN_VAR"] = str(var)
    os.environ.pop("WAREHOUSE_URL", None)
    from sco_green.dbt_runner import ensure_manifest
    from sco_green.nightly import configure_airflow

    configure_airflow(var)
    ensure_manifest()


def _create_database(purpose: str) -> tuple[str, str]:
    """Create ``<purpose>_<run>_<random>`` on the server; returns (name, URL)."""
    dbname = f"{purpose}_{RUN_ID}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(SERVER_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    return dbname, _with_db(SERVER_URL, dbname)


def _drop_databases(*names: str) -> None:
    with psycopg.connect(SERVER_URL, autocommit=True) as admin:
        for dbname in names:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))


@contextlib.contextmanager
def scratch_warehouse(purpose: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """A new database exported as WAREHOUSE_URL (with ``env``) for a module's shared fixture;
    the environment is restored and the database dropped afterwards."""
    dbname, url = _create_database(purpose)
    overrides = {**(env or {}), "WAREHOUSE_URL": url}
    saved = {k: os.environ.get(k) for k in overrides}
    os.environ.update(overrides)
    try:
        yield url
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        _drop_databases(dbname)


@pytest.fixture
def new_database() -> Iterator[Callable[[str], str]]:
    """A factory of brand-new databases on the real server (a warehouse, Airflow's metadata);
    each is dropped when the test ends."""
    made: list[str] = []

    def make(purpose: str = "sco_test") -> str:
        dbname, url = _create_database(purpose)
        made.append(dbname)
        return url

    yield make
    _drop_databases(*made)


@pytest.fixture
def warehouse_url(new_database: Callable[[str], str], monkeypatch: pytest.MonkeyPatch) -> str:
    """A brand-new database on the real server, exported as WAREHOUSE_URL for the test."""
    url = new_database("sco_test")
    monkeypatch.setenv("WAREHOUSE_URL", url)
    return url


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
