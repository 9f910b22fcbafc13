"""Incremental facts: a night rewrites only the fact rows whose winner it changed, and what it
builds equals a full refresh. A row's ``xmin`` (the transaction that wrote it) tells whether a
build rewrote it."""

from __future__ import annotations

import csv
from pathlib import Path

import psycopg
import pytest

from sco_green.dbt_runner import run_dbt
from sco_green.feeds import RECYCLING, TRADE
from sco_green.generate import CYCLE_DATES, generate
from sco_green.marts_publish import mart_digests
from sco_green.nightly import run_cycle
from tests.conftest import write_csv

TRADE_KEY = ("year", "reporter_iso3", "partner_iso3", "flow", "hs_version", "hs6")
TICKET_KEY = ("park_id", "ticket_no")


def _build(schema: str = "marts_build", *flags: str) -> None:
    # --no-write-json: target/manifest.json stays the one the DAGs and the unit tests read (a
    # build with other vars would leave its schemas in it, e.g. marts_full).
    run_dbt(["build", "--no-write-json", *flags, "--vars", f'{{"marts_schema": "{schema}"}}'])


INCREMENTAL_TABLES = ("staging.int_trade__winning_revisions", "marts_build.fct_trade",
                      "staging.int_recycling__winning_tickets", "marts_build.fct_recycling_tickets")  # fmt: skip


def _oids(url: str, tables: tuple[str, ...] = INCREMENTAL_TABLES) -> dict[str, int]:
    """The relation behind each table: a rebuild swaps in a new one, a keyed night keeps it."""
    with psycopg.connect(url) as conn:
        return {t: conn.execute("SELECT %s::regclass::oid", (t,)).fetchone()[0] for t in tables}


def _by_key(url: str, table: str, key: tuple[str, ...], value: str) -> dict:
    """One value per row of a marts_build table, by the row's key."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(f"SELECT {', '.join(key)}, {value} FROM marts_build.{table}").fetchall()
    return {tuple(str(v) for v in row[:-1]): row[-1] for row in rows}


def _xmins(url: str, table: str, key: tuple[str, ...]) -> dict[tuple, str]:
    return _by_key(url, table, key, "xmin::text")


def _records(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _rewritten(before: dict[tuple, str], after: dict[tuple, str]) -> set[tuple]:
    return {key for key, xmin in after.items() if before.get(key) != xmin}


@pytest.fixture
def first_night(tmp_path: Path, warehouse_url: str) -> Path:
    """Night 1 published, then a first (full) build of the facts in marts_build."""
    inbox = tmp_path / "inbox"
    generate(inbox, cycle=1)
    run_cycle(inbox, CYCLE_DATES[0], echo=lambda _line: None)
    _build()
    return inbox


def _assert_each_winner_index_once(url: str) -> None:
    """The winner tables' indexes (the next night reads through them) exist, each exactly once."""
    with psycopg.connect(url) as conn:
        indexes = [
            (table, definition.split(" USING btree ")[1])
            for table, definition in conn.execute(
                "SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = 'staging'"
            ).fetchall()
        ]
    for table, key in (("int_trade__winning_revisions", TRADE_KEY), ("int_recycling__winning_tickets", TICKET_KEY)):
        wanted = [f"({', '.join(key)})", "(load_id)", "(seen_through_load_id)"]
        assert sorted(i for t, i in indexes if t == table) == sorted(wanted), table


def test_a_night_rewrites_only_the_fact_rows_it_changed(first_night: Path, warehouse_url: str) -> None:
    inbox = first_night
    oids_before = _oids(warehouse_url)
    trade_before = _xmins(warehouse_url, "fct_trade", TRADE_KEY)
    tickets_before = _xmins(warehouse_url, "fct_recycling_tickets", TICKET_KEY)

    # Three trade keys get a higher revision; one ticket is voided.
    trade = [r for r in _records(inbox / "trade" / "trade_2020_2025_r0.csv") if r["partner_iso3"] != "WLD"][:3]
    for record in trade:
        record.update(revision=str(int(record["revision"]) + 1), trade_value_usd="4242.00")
    write_csv(inbox / "trade" / "trade_2025_revisions.csv", list(TRADE.column_names),
              [[r[c] for c in TRADE.column_names] for r in trade])  # fmt: skip
    ticket = _records(inbox / "recycling" / "tickets_ZIYA_2025H1.csv")[0]
    ticket["status"] = "VOID"
    write_csv(inbox / "recycling" / "tickets_ZIYA_2025H1_void.csv", list(RECYCLING.column_names),
              [[ticket[c] for c in RECYCLING.column_names]])  # fmt: skip
    run_cycle(inbox, CYCLE_DATES[1], echo=lambda _line: None, dag_ids=("ingest_trade", "ingest_recycling"))
    _build()

    trade_after = _xmins(warehouse_url, "fct_trade", TRADE_KEY)
    revised = {tuple(r[c] for c in TRADE_KEY) for r in trade}
    assert _rewritten(trade_before, trade_after) == revised
    assert trade_after.keys() == trade_before.keys()
    tickets_after = _xmins(warehouse_url, "fct_recycling_tickets", TICKET_KEY)
    voided = (ticket["park_id"], ticket["ticket_no"])
    assert voided in tickets_before and voided not in tickets_after
    assert _rewritten(tickets_before, tickets_after) == set()
    assert len(tickets_after) == len(tickets_before) - 1
    with psycopg.connect(warehouse_url) as conn:
        values = conn.execute(
            "SELECT DISTINCT trade_value_usd::text, source_file FROM marts_build.fct_trade"
            " WHERE (year, reporter_iso3, partner_iso3, flow, hs_version, hs6)::text = ANY(%s)",
            ([_row_literal(k) for k in revised],),
        ).fetchall()
    assert values == [("4242.00", "trade_2025_revisions.csv")]
    _assert_each_winner_index_once(warehouse_url)
    assert _oids(warehouse_url) == oids_before  # key by key, not rebuilt

    # What the night built incrementally is what a full rebuild of everything gives.
    _build("marts_full", "--full-refresh")
    assert mart_digests(warehouse_url, "marts_full") == mart_digests(warehouse_url, "marts_build")
    _assert_each_winner_index_once(warehouse_url)  # and the rebuilt winner tables have theirs again


def test_a_night_revising_half_the_keys_merges_them_and_equals_a_full_refresh(
    first_night: Path, warehouse_url: str
) -> None:
    """However much a night revises, it merges into the same relations (dbt's merge strategy), and
    the result is what a full refresh gives."""
    inbox = first_night
    oids_before = _oids(warehouse_url)
    records = _records(inbox / "trade" / "trade_2020_2025_r0.csv")
    revised = records[: len(records) // 2]
    for record in revised:
        record["revision"] = str(int(record["revision"]) + 1)
        record["trade_value_usd"] = f"{float(record['trade_value_usd']) + 1:.2f}"
    write_csv(inbox / "trade" / "trade_2025_revisions.csv", list(TRADE.column_names),
              [[r[c] for c in TRADE.column_names] for r in revised])  # fmt: skip
    run_cycle(inbox, CYCLE_DATES[1], echo=lambda _line: None, dag_ids=("ingest_trade",))
    _build()

    oids_after = _oids(warehouse_url)
    assert oids_after == oids_before
    _assert_each_winner_index_once(warehouse_url)
    with psycopg.connect(warehouse_url) as conn:
        from_revisions = conn.execute(
            "SELECT count(*) FROM marts_build.fct_trade WHERE source_file = 'trade_2025_revisions.csv'"
        ).fetchone()[0]
        # The fact states the load it was built through, which the next night starts from.
        note = conn.execute("SELECT obj_description('marts_build.fct_trade'::regclass, 'pg_class')").fetchone()[0]
        newest = conn.execute("SELECT max(load_id) FROM audit.load_ledger WHERE feed = 'trade'").fetchone()[0]
    assert from_revisions == sum(r["partner_iso3"] != "WLD" for r in revised)
    assert note.startswith(f"Built through load {newest}; inputs ")
    # The seeds the build just reloaded were analyzed, so joins plan them as the small tables they are.
    with psycopg.connect(warehouse_url) as conn:
        unanalyzed = conn.execute(
            "SELECT relname FROM pg_stat_user_tables WHERE schemaname = 'ref' AND last_analyze IS NULL"
        ).fetchall()
        seeds = conn.execute("SELECT count(*) FROM pg_stat_user_tables WHERE schemaname = 'ref'").fetchone()[0]
    assert unanalyzed == [] and seeds >= 9
    _build()
    assert _oids(warehouse_url) == oids_after
    _build("marts_full", "--full-refresh")
    assert mart_digests(warehouse_url, "marts_full") == mart_digests(warehouse_url, "marts_build")


def test_keys_a_corrected_re_drop_no_longer_has_leave_the_facts(first_night: Path, warehouse_url: str) -> None:
    """A superseded file is the one way a winner disappears: the night then compares the fact
    with its winners in full, and the keys only the first version had are deleted."""
    inbox = first_night
    path = inbox / "trade" / "trade_2020_2025_r0.csv"
    records = _records(path)
    dropped = {tuple(r[c] for c in TRADE_KEY) for r in records[:5] if r["partner_iso3"] != "WLD"}
    assert dropped
    write_csv(path, list(TRADE.column_names), [[r[c] for c in TRADE.column_names] for r in records[5:]])
    before = _xmins(warehouse_url, "fct_trade", TRADE_KEY)
    assert dropped <= before.keys()

    run_cycle(inbox, CYCLE_DATES[1], echo=lambda _line: None, dag_ids=("ingest_trade",))
    _build()

    after = _xmins(warehouse_url, "fct_trade", TRADE_KEY)
    assert after.keys() == before.keys() - dropped
    _build("marts_full", "--full-refresh")
    assert mart_digests(warehouse_url, "marts_full") == mart_digests(warehouse_url, "marts_build")


def test_a_changed_definition_recomputes_every_fact_row(first_night: Path, warehouse_url: str) -> None:
    before = _xmins(warehouse_url, "fct_trade", TRADE_KEY)
    digests = mart_digests(warehouse_url, "marts_build")
    _build()
    assert _rewritten(before, _xmins(warehouse_url, "fct_trade", TRADE_KEY)) == set()  # a quiet night
    with psycopg.connect(warehouse_url) as conn:
        # As if the model's SQL or the hs_green_goods seed had changed since the table was built.
        note = conn.execute("SELECT obj_description('marts_build.fct_trade'::regclass, 'pg_class')").fetchone()[0]
        older = note.split("; inputs ")[0] + "; inputs an older definition"
        conn.execute(f"COMMENT ON TABLE marts_build.fct_trade IS '{older}'")
    _build()
    after = _xmins(warehouse_url, "fct_trade", TRADE_KEY)
    assert after.keys() == before.keys() and _rewritten(before, after) == set(after)
    assert mart_digests(warehouse_url, "marts_build") == digests


def _row_literal(key: tuple) -> str:
    """The text form PostgreSQL gives a row value of the trade key, e.g. ``(2024,CHN,KAZ,X,HS2022,850760)``."""
    return "(" + ",".join(key) + ")"


def test_a_full_refresh_night_rebuilds_every_seed_and_incremental_table(first_night: Path, warehouse_url: str) -> None:
    """The build DAG's full_refresh param (`sco-green nightly --full-refresh`): every seed and
    incremental table is a new relation, and the published marts hold what the incremental
    build held."""
    tables = ("staging.int_trade__winning_revisions", "staging.int_recycling__winning_tickets", "ref.hs_green_goods")
    facts = tuple(f"{schema}.{fact}" for schema in ("marts", "marts_build")
                  for fact in ("fct_trade", "fct_recycling_tickets"))  # fmt: skip
    before = set(_oids(warehouse_url, tables + facts).values())
    incremental = mart_digests(warehouse_url, "marts_build")

    run_cycle(first_night, CYCLE_DATES[1], echo=lambda _line: None, dag_ids=("build_warehouse",), full_refresh=True)

    published_facts = ("marts.fct_trade", "marts.fct_recycling_tickets")
    assert set(_oids(warehouse_url, tables + published_facts).values()).isdisjoint(before)
    assert mart_digests(warehouse_url, "marts") == incremental
    _assert_each_winner_index_once(warehouse_url)
