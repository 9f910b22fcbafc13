"""Data tests skip their scan only where the catalog proves them (a unique index, a NOT NULL
column, a CHECK constraint of accepted values); take the proof away and the same tests scan the
table and catch the bad rows."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from sco_green.dbt_runner import DbtFailed, run_dbt
from sco_green.generate import CYCLE_DATES, generate
from sco_green.nightly import run_cycle

TESTS = (
    "unique_combination_fct_trade_year__reporter_iso3__partner_iso3__flow__hs_version__hs6 not_null_fct_trade_revision"
)
MARTS_BUILD = '{"marts_schema": "marts_build"}'


def _test_marts_build() -> None:
    run_dbt(["test", "--select", TESTS, "--vars", MARTS_BUILD])


@pytest.fixture
def first_night(tmp_path: Path, warehouse_url: str) -> None:
    """Night 1 published (raw, ledger and marts of the sample feeds)."""
    inbox = tmp_path / "inbox"
    generate(inbox, cycle=1)
    run_cycle(inbox, CYCLE_DATES[0], echo=lambda _line: None)


@pytest.fixture
def fct_trade_in_marts_build(first_night: None) -> None:
    """fct_trade and what it is built from, built into marts_build with its contract."""
    run_dbt(["build", "--select", "+fct_trade", "--vars", MARTS_BUILD])


def test_a_test_the_catalog_no_longer_proves_scans_and_fails(
    fct_trade_in_marts_build: None, warehouse_url: str
) -> None:
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


STAGING_KEY_TEST = "unique_combination_stg_trade__trade_records_load_id__source_row"


def _test_staging_key() -> None:
    run_dbt(["test", "--select", STAGING_KEY_TEST])


def test_a_staging_views_key_is_proved_by_what_it_reads_and_scanned_when_a_key_is_gone(
    first_night: None, warehouse_url: str
) -> None:
    """stg_trade__trade_records is raw.trade joined to the ledger's current loads: unique while
    raw.trade is unique on (load_id, source_row) and the ledger on load_id. Drop either key and
    the test reads the view, and finds the duplicate the missing key let in."""
    _test_staging_key()

    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        load_id = conn.execute("SELECT max(load_id) FROM raw.trade").fetchone()[0]
        conn.execute("ALTER TABLE audit.load_ledger DROP CONSTRAINT load_ledger_pkey CASCADE")
        # The one-loaded-copy indexes would refuse the duplicate too; the next bootstrap restores them.
        conn.execute("DROP INDEX audit.load_ledger_one_loaded_bytes, audit.load_ledger_one_loaded_name")
        _test_staging_key()  # scanned: nothing wrong yet
        conn.execute("INSERT INTO audit.load_ledger SELECT * FROM audit.load_ledger WHERE load_id = %s", (load_id,))
    with pytest.raises(DbtFailed) as failed:
        _test_staging_key()
    assert STAGING_KEY_TEST in str(failed.value)

    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute(
            "DELETE FROM audit.load_ledger WHERE ctid = (SELECT max(ctid) FROM audit.load_ledger WHERE load_id = %s)",
            (load_id,),
        )
        conn.execute("ALTER TABLE audit.load_ledger ADD PRIMARY KEY (load_id)")
        _test_staging_key()  # proved again
        conn.execute("ALTER TABLE raw.trade DROP CONSTRAINT trade_pkey")
        conn.execute("INSERT INTO raw.trade SELECT * FROM raw.trade WHERE load_id = %s LIMIT 1", (load_id,))
    with pytest.raises(DbtFailed) as failed:
        _test_staging_key()
    assert STAGING_KEY_TEST in str(failed.value)


FLOW_TEST = "accepted_values_fct_trade_flow__M__X"


def _compiled(test_name: str) -> str:
    results = run_dbt(["compile", "--quiet", "--select", test_name, "--vars", MARTS_BUILD])
    return results.results[0].node.compiled_code


def _rows_read_from(url: str, sql: str, table: str) -> int:
    """Rows the query's plan read from `table`, kept or filtered out (EXPLAIN ANALYZE; 0: the
    scan never ran)."""

    def walk(node: dict) -> int:
        read = node["Actual Rows"] + node.get("Rows Removed by Filter", 0)
        own = read * node["Actual Loops"] if node.get("Relation Name") == table else 0
        return own + sum(walk(child) for child in node.get("Plans", []))

    with psycopg.connect(url) as conn:
        plan = conn.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}").fetchone()[0]
    return walk((plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"])


def test_accepted_values_are_proved_by_the_check_constraint_and_scanned_without_it(
    fct_trade_in_marts_build: None, warehouse_url: str
) -> None:
    """fct_trade's contract checks `flow in ('M', 'X')`: the accepted_values test then reads no
    row of the table. Without the constraint it scans, and a row with another flow fails it."""
    sql = _compiled(FLOW_TEST)
    assert _rows_read_from(warehouse_url, sql, "fct_trade") == 0

    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        check = conn.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = 'marts_build.fct_trade'::regclass AND contype = 'c'"
        ).fetchall()
        assert len(check) == 1
        conn.execute(f'ALTER TABLE marts_build.fct_trade DROP CONSTRAINT "{check[0][0]}"')
        assert _rows_read_from(warehouse_url, sql, "fct_trade") > 0
        run_dbt(["test", "--select", FLOW_TEST, "--vars", MARTS_BUILD])  # scanned: nothing wrong yet
        conn.execute(
            "UPDATE marts_build.fct_trade SET flow = 'Q' WHERE ctid = (SELECT min(ctid) FROM marts_build.fct_trade)"
        )
    with pytest.raises(DbtFailed) as failed:
        run_dbt(["test", "--select", FLOW_TEST, "--vars", MARTS_BUILD])
    assert FLOW_TEST in str(failed.value)
