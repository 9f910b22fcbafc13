"""Reliability matrix, rows: every contract rule id, duplicate keys in a file, WLD aggregates, a
VOID after an OK ticket, month edges in local time, late revisions, a member who leaves and comes
back. Three generated nights (with every fault) plus hand-made cases, through the real nightly;
each case is checked in the ledger, the quarantine and the marts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import psycopg
import pytest

from sco_green.feeds import RECYCLING, TRADE
from sco_green.generate import CYCLE_DATES, generate, member_fault_rows, ticket_fault_rows, trade_fault_rows
from sco_green.nightly import run_cycle
from tests.conftest import scratch_warehouse, trade_row, write_csv

RULE_IDS = (
    set(member_fault_rows(CYCLE_DATES[0])) | set(trade_fault_rows()) | set(ticket_fault_rows())
)  # the contract's 29 row rules, M01..M07, T01..T10, R01..R12


def _ticket(ticket_no: str, weigh_in: str, weigh_out: str, park: str = "BATKEN", status: str = "OK") -> list[str]:
    cells = dict(
        park_id=park, ticket_no=ticket_no, enterprise_id="ENT-0042", direction="IN", segment="waste_paper",
        material="waste paper", weigh_in_at=weigh_in, weigh_out_at=weigh_out, gross_kg="15000",
        tare_kg="10000", net_kg="5000", origin_iso3="KGZ", destination_iso3="KGZ", status=status,
    )  # fmt: skip
    assert set(cells) <= set(RECYCLING.column_names), set(cells) - set(RECYCLING.column_names)
    return [cells.get(column, "") for column in RECYCLING.column_names]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One warehouse through three nights of generated feeds with faults, plus the hand-made cases."""
    with scratch_warehouse("sco_rows") as url:
        inbox = tmp_path_factory.mktemp("rows") / "inbox"
        columns = list(TRADE.column_names)
        for night, day in enumerate(CYCLE_DATES, start=1):
            generate(inbox, cycle=night, faults=True)
            if night == 1:
                write_csv(
                    inbox / "trade" / "trade_cases_1.csv",
                    columns,
                    [
                        trade_row(1, revision="0", trade_value_usd="100.00"),  # a later revision 1 wins
                        trade_row(2, revision="2", trade_value_usd="200.00"),  # a later revision 1 is ignored
                        trade_row(3, partner_iso3="WLD", trade_value_usd="999999.00"),  # world aggregate
                        *(trade_row(i) for i in range(4, 12)),
                    ],
                )
                # The instant that is January in ZIYA (+08:00) is January in BATKEN (+06:00) too.
                write_csv(
                    inbox / "recycling" / "tickets_BATKEN_edges.csv",
                    list(RECYCLING.column_names),
                    [_ticket("EDGE-B", "2025-01-31T23:10:00+08:00", "2025-01-31T23:30:00+08:00")],
                )
            if night == 2:
                write_csv(
                    inbox / "trade" / "trade_cases_2.csv",
                    columns,
                    [
                        trade_row(1, revision="1", trade_value_usd="110.00"),
                        trade_row(2, revision="1", trade_value_usd="190.00"),
                        *(trade_row(i) for i in range(12, 20)),
                    ],
                )
            run_cycle(inbox, day, echo=lambda _line: None)
        yield url


def _all(url: str, query: str, params: tuple | None = None) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def test_every_contract_rule_id_is_quarantined_and_kept_out_of_raw_and_marts(warehouse: str) -> None:
    assert len(RULE_IDS) == 29
    seen = {rule for (rules,) in _all(warehouse, "SELECT rules FROM audit.quarantine") for rule in rules}
    assert RULE_IDS <= seen
    # Only the live version of a file name counts: a corrected re-drop under the same name may
    # have a valid row where the superseded version had a quarantined one.
    leaked = _all(
        warehouse,
        "SELECT q.file_name, q.row_number FROM audit.quarantine q"
        " JOIN audit.load_ledger l USING (load_id)"
        " WHERE l.status = 'loaded' AND ("
        "   EXISTS (SELECT 1 FROM raw.trade t WHERE t.load_id = q.load_id AND t.source_row = q.row_number)"
        "   OR EXISTS (SELECT 1 FROM raw.recycling r WHERE r.load_id = q.load_id AND r.source_row = q.row_number)"
        "   OR EXISTS (SELECT 1 FROM raw.members m WHERE m.load_id = q.load_id AND m.source_row = q.row_number)"
        "   OR EXISTS (SELECT 1 FROM marts.fct_trade f WHERE f.source_file = q.file_name"
        "     AND f.source_row = q.row_number)"
        "   OR EXISTS (SELECT 1 FROM marts.fct_recycling_tickets f WHERE f.source_file = q.file_name"
        "     AND f.source_row = q.row_number))",
    )
    assert leaked == []
    # Every loaded file accounts for each of its rows: published or quarantined.
    for rows_in, loaded, quarantined, name in _all(
        warehouse,
        "SELECT rows_in, rows_loaded, rows_quarantined, file_name FROM audit.load_ledger WHERE status = 'loaded'",
    ):
        assert rows_in == loaded + quarantined, name


def test_duplicate_keys_inside_a_file_are_all_quarantined(warehouse: str) -> None:
    [(rows,)] = _all(warehouse, "SELECT count(*) FROM audit.quarantine WHERE feed = 'trade' AND rules @> ARRAY['T10']")
    assert rows >= 2
    keys = _all(
        warehouse,
        "SELECT DISTINCT raw->>'year', raw->>'reporter_iso3', raw->>'partner_iso3', raw->>'flow',"
        " raw->>'hs_version', raw->>'hs6' FROM audit.quarantine WHERE rules @> ARRAY['T10']",
    )
    quarantined_rows = set(
        _all(warehouse, "SELECT file_name, row_number FROM audit.quarantine WHERE rules @> ARRAY['T10']")
    )
    for key in keys:
        in_marts = _all(
            warehouse,
            "SELECT source_file, source_row FROM marts.fct_trade WHERE year::text = %s AND reporter_iso3 = %s"
            " AND partner_iso3 = %s AND flow = %s AND hs_version = %s AND hs6 = %s",
            key,
        )
        assert not set(in_marts) & quarantined_rows


def test_wld_aggregates_are_kept_in_raw_but_never_summed(warehouse: str) -> None:
    [(raw_wld,)] = _all(warehouse, "SELECT count(*) FROM raw.trade WHERE partner_iso3 = 'WLD'")
    assert raw_wld >= 1
    assert _all(warehouse, "SELECT count(*) FROM marts.fct_trade WHERE partner_iso3 = 'WLD'") == [(0,)]
    mismatched = _all(
        warehouse,
        "SELECT c.year, c.country_iso3 FROM marts.rpt_country_green_trade c"
        " LEFT JOIN (SELECT year, reporter_iso3, sum(trade_value_usd) FILTER (WHERE flow = 'X') AS x,"
        "   sum(trade_value_usd) FILTER (WHERE flow = 'M') AS m FROM marts.fct_trade"
        "   WHERE green_category IS NOT NULL GROUP BY 1, 2) f"
        "   ON f.year = c.year AND f.reporter_iso3 = c.country_iso3"
        " WHERE c.exports_usd IS DISTINCT FROM coalesce(f.x, 0) OR c.imports_usd IS DISTINCT FROM coalesce(f.m, 0)",
    )
    assert mismatched == []


def test_void_after_an_ok_ticket_cancels_it(warehouse: str) -> None:
    statuses = _all(
        warehouse,
        "SELECT status FROM raw.recycling WHERE park_id = 'ZIYA' AND ticket_no = 'ZI1-0000001' ORDER BY load_id",
    )
    assert [s for (s,) in statuses][-1] == "VOID" and ("OK",) in statuses
    assert _all(warehouse, "SELECT count(*) FROM marts.fct_recycling_tickets WHERE ticket_no = 'ZI1-0000001'") == [(0,)]


def test_ticket_month_is_taken_in_the_parks_own_time_zone(warehouse: str) -> None:
    months = dict(
        _all(
            warehouse,
            "SELECT park_id || '/' || ticket_no, local_month FROM marts.fct_recycling_tickets"
            " WHERE ticket_no IN ('EDGE-1', 'EDGE-2', 'EDGE-B')",
        )
    )
    assert months == {
        "ZIYA/EDGE-1": date(2025, 1, 1),  # 2025-01-31T23:30+08:00
        "ZIYA/EDGE-2": date(2025, 2, 1),  # 2025-01-31T18:30Z is 02:30 on 1 February in Tianjin
        "BATKEN/EDGE-B": date(2025, 1, 1),  # the first instant, 21:30 on 31 January in Batken
    }
    [(tonnes,)] = _all(warehouse, "SELECT net_t FROM marts.fct_recycling_tickets WHERE ticket_no = 'EDGE-B'")
    assert tonnes == 5  # 5000 kg


def test_trade_revision_after_a_higher_one_is_ignored_and_after_a_lower_one_wins(warehouse: str) -> None:
    rows = _all(
        warehouse,
        "SELECT hs6, revision, trade_value_usd, source_file FROM marts.fct_trade"
        " WHERE hs6 IN ('850001', '850002') AND reporter_iso3 = 'CHN' AND partner_iso3 = 'KAZ' ORDER BY hs6",
    )
    assert rows == [("850001", 1, 110, "trade_cases_2.csv"), ("850002", 2, 200, "trade_cases_1.csv")]
    ledger = _all(
        warehouse, "SELECT file_name, status FROM audit.load_ledger WHERE file_name LIKE 'trade_cases_%' ORDER BY 1"
    )
    assert ledger == [("trade_cases_1.csv", "loaded"), ("trade_cases_2.csv", "loaded")]


def test_member_leaving_and_coming_back_has_two_scd2_versions(warehouse: str) -> None:
    versions = _all(
        warehouse, "SELECT valid_from, valid_to FROM marts.dim_members WHERE member_id = 'SCOGA-0005' ORDER BY 1"
    )
    assert versions == [(CYCLE_DATES[0], CYCLE_DATES[1]), (CYCLE_DATES[2], None)]
    present = _all(warehouse, "SELECT DISTINCT file_name FROM raw.members WHERE member_id = 'SCOGA-0005' ORDER BY 1")
    assert [f for (f,) in present] == ["members_20251229.csv", "members_20251231.csv"]
