"""Data tests skip their scan only where the catalog proves them (a unique index, a NOT NULL
column); take the proof away and the same tests scan the table and catch the bad rows."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from sco_green.dbt_runner import DbtFailed, run_dbt
from sco_green.generate import CYCLE_DATES, generate
from sco_green.nightly import run_cycle

TESTS = (
    "unique_combination_fct_trade_year__reporter_iso3__partner_iso3__flow__hs_version__hs6 not_null_fct_trade_revision"
)


def _test_marts_build() -> None:
    run_dbt(["test", "--select", TESTS, "--vars", '{"marts_schema": "marts_build"}'])


def test_a_test_the_catalog_no_longer_proves_scans_and_fails(tmp_path: Path, warehouse_url: str) -> None:
    inbox = tmp_path / "inbox"
    generate(inbox, cycle=1)
    run_cycle(inbox, CYCLE_DATES[0], echo=lambda _line: None)
    run_dbt(["build", "--select", "+fct_trade", "--vars", '{"marts_schema": "marts_build"}'])
    _test_marts_build()  # proven by the primary key and the NOT NULL column

    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        constraint = conn.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = 'marts_build.fct_trade'::regclass AND contype = 'p'"
        ).fetchone()[0]
        conn.execute(f'ALTER TABLE marts_build.fct_trade DROP CONSTRAINT "{constraint}"')
        conn.execute("ALTER TABLE marts_build.fct_trade ALTER COLUMN revision DROP NOT NULL")
        _test_marts_build()  # no proof any more, and the scans find nothing wrong
        conn.execute("INSERT INTO marts_build.fct_trade SELECT * FROM marts_build.fct_trade LIMIT 1")
        conn.execute(
            "UPDATE marts_build.fct_trade SET revision = NULL"
            " WHERE ctid = (SELECT min(ctid) FROM marts_build.fct_trade)"
        )

    with pytest.raises(DbtFailed) as failed:
        _test_marts_build()
    assert "unique_combination_fct_trade" in str(failed.value)
    assert "not_null_fct_trade_revision" in str(failed.value)
