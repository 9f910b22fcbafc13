"""A feed's record screen clears only rows that break none of its row rules.

Each screen is held to the SQL rules on edge values: a plain file of one valid row and, for each
column, copies of it with that column set to an edge value (and rows mixing columns), landed as
the pipeline lands it, with its header in another order and an extra column. The rows the screen
cleared are compared with the rows the rules, run on every row, break.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pyarrow as pa
import pytest

from expectations.feed_rules import rules_for, screen_for
from expectations.rules import SCREENED, tagging_query
from expectations.screens import RecordScreen
from sco_green import landing
from sco_green.feeds import feed

DECIMALS = ["0", "0.0", "12.5", "00012.50", "-0", "-1", "+1", "1.", ".5", "1e3", " 1", "", "x", "１"]
TRADE_BASE = {
    "year": "2024",
    "reporter_iso3": "CHN",
    "partner_iso3": "KAZ",
    "flow": "X",
    "hs_version": "HS2022",
    "hs6": "850760",
    "trade_value_usd": "1000.50",
    "net_weight_kg": "20",
    "revision": "0",
}
TRADE_EDGES = {
    "year": ["2000", "2100", "1999", "2101", "02025", "+2025", "2025 ", "", "20x4", "٢٠٢٤", "2024.0", "99999999999"],
    "reporter_iso3": ["KAZ", "WLD", "chn", "CHN ", "XXX", "", "CH"],
    "partner_iso3": ["CHN", "WLD", "wld", "XXX", "", "KAZZ"],
    "flow": ["M", "m", "MX", "", "I"],
    "hs_version": ["HS2017", "HS1992", "hs2022", ""],
    "hs6": ["000000", "85076", "8507600", "85076a", "٨٥٠٧٦٠", "", " 850760"],
    "trade_value_usd": DECIMALS,
    "net_weight_kg": DECIMALS,
    "revision": ["1", "2147483647", "2147483648", "999999999", "1000000000", "-0", "+1", "", "01"],
}
TICKET_BASE = {
    "park_id": "BATKEN",
    "ticket_no": "T-1",
    "enterprise_id": "ENT-1",
    "direction": "IN",
    "segment": "weee",
    "material": "废冰箱",
    "weigh_in_at": "2025-03-07T04:57:00+08:00",
    "weigh_out_at": "2025-03-07T05:48:00+08:00",
    "gross_kg": "31963.0",
    "tare_kg": "9589.0",
    "deduction_kg": "42",
    "net_kg": "22332.0",
    "hw_code": "",
    "manifest_no": "",
    "origin_iso3": "CHN",
    "destination_iso3": "UZB",
    "status": "OK",
}
TIMESTAMPS = [
    "2025-03-07T04:57:00Z",
    "2025-03-06T20:57:00Z",  # the same instant as the base's weigh-in
    "2025-03-06T20:56:59Z",
    "2025-03-07T04:57:00+15:59",
    "2025-03-07T04:57:00+16:00",
    "2025-03-07T04:57:00-00:00",
    "2025-03-07 04:57:00+08:00",
    "2025-03-07T04:57:00.5+08:00",
    "2025-03-07T04:57+08:00",
    "2025-02-29T00:00:00Z",
    "2024-02-29T23:59:59Z",
    "2025-04-31T00:00:00Z",
    "2025-03-07T24:00:00Z",
    "2025-03-07T23:60:00Z",
    "0000-01-01T00:00:00Z",
    "0999-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "2025-13-01T00:00:00Z",
    "",
]
TICKET_EDGES = {
    "park_id": ["ZIYA", "ziya", "NOPE", ""],
    "ticket_no": ["", " "],
    "enterprise_id": ["", "E"],
    "direction": ["OUT", "out", ""],
    "segment": ["waste_paper", "paper", ""],
    "weigh_in_at": TIMESTAMPS,
    "weigh_out_at": TIMESTAMPS,
    "gross_kg": DECIMALS,
    "tare_kg": DECIMALS,
    "deduction_kg": DECIMALS,
    "net_kg": [*DECIMALS, "22331.0", "22333.0", "22333.000001", "22330.999999", "22333.5"],
    "hw_code": ["900-041-49", "900-041-4", "900_041_49", ""],
    "manifest_no": ["M-1", ""],
    "origin_iso3": ["", "XXX", "kaz"],
    "destination_iso3": ["", "XXX", "WLD"],
    "status": ["VOID", "void", ""],
}
TICKET_MIXES = [
    {"hw_code": "900-041-49", "manifest_no": "M-1"},
    {"hw_code": "900-041-49", "manifest_no": ""},
    {"deduction_kg": "", "net_kg": "22374.0"},
    {"deduction_kg": "", "net_kg": "22375.0"},
    {"gross_kg": "999999999999.999999", "tare_kg": "0", "deduction_kg": "0", "net_kg": "999999999999.999999"},
    {"gross_kg": "999999999999.999999", "tare_kg": "0", "deduction_kg": "0", "net_kg": "999999999998.999999"},
    {"gross_kg": "999999999999.999999", "tare_kg": "0", "deduction_kg": "0", "net_kg": "999999999998.9"},
    {"gross_kg": "1" + "0" * 20, "tare_kg": "0", "deduction_kg": "0", "net_kg": "1" + "0" * 20},
    {"gross_kg": "100", "tare_kg": "100", "deduction_kg": "0", "net_kg": "0"},
    {"gross_kg": "100", "tare_kg": "99.5", "deduction_kg": "", "net_kg": "0.5"},
    {"deduction_kg": "-1", "net_kg": "22375.0"},
    {"tare_kg": "-1", "net_kg": "31922.0"},
    {"weigh_in_at": "2025-03-07T05:48:00+08:00", "weigh_out_at": "2025-03-07T04:48:00+07:00"},
    {"weigh_in_at": "2025-03-07T05:48:00+08:00", "weigh_out_at": "2025-03-06T21:47:59Z"},
]
CASES = {
    "trade": (
        TRADE_BASE,
        TRADE_EDGES,
        [{"partner_iso3": "CHN", "reporter_iso3": "CHN"}, {"trade_value_usd": "1" * 16384}, {"hs6": "1" * 17000}],
    ),
    "recycling": (TICKET_BASE, TICKET_EDGES, TICKET_MIXES),
}


def _edge_rows(feed_name: str) -> list[dict[str, str]]:
    base, edges, mixes = CASES[feed_name]
    rows = [base]
    rows += [{**base, column: value} for column, values in edges.items() for value in values]
    rows += [{**base, **mix} for mix in mixes]
    return rows


def _write_plain(path: Path, header: list[str], rows: list[list[str]], ending: str) -> Path:
    assert not any("," in cell or '"' in cell for row in rows for cell in row)
    path.write_bytes(ending.join(",".join(cells) for cells in [header, *rows]).encode())
    return path


@pytest.mark.parametrize("ending", ["\n", "\r\n"])
@pytest.mark.parametrize("feed_name", sorted(CASES))
def test_a_screen_clears_no_row_that_a_rule_breaks(
    feed_name: str, ending: str, tmp_path: Path, db: psycopg.Connection
) -> None:
    spec = feed(feed_name)
    header = [*reversed(spec.column_names), "note"]
    rows = _edge_rows(feed_name)
    path = _write_plain(tmp_path / "f.csv", header, [[*(r[c] for c in header[:-1]), "备注"] for r in rows], ending)
    assert landing.plain_records(path, len(header)) == len(rows)
    table = landing.landing_table(feed_name, 1)
    with db.transaction():
        landing.land_file(db, spec, path, "utf-8", table, screen_for(feed_name))

    screened = {n for (n,) in db.execute(f"SELECT source_row FROM {table} WHERE {SCREENED}")}
    db.execute(f"UPDATE {table} SET {SCREENED} = false")  # the rules now judge every row
    row_rules = [r for r in rules_for(feed_name, "f.csv") if r.predicate is not None]
    broken = {n for (n, _) in db.execute(tagging_query(row_rules, table))}

    assert sorted(screened & broken) == []
    assert 1 in screened  # the valid row
    assert len(screened) > 10 and len(broken) > len(rows) // 2  # neither side is vacuous


def test_rows_are_flagged_only_in_plain_utf8_files(tmp_path: Path, db: psycopg.Connection) -> None:
    spec = feed("trade")
    header = list(spec.column_names)
    row = [TRADE_BASE[c] for c in header]
    plain = _write_plain(tmp_path / "plain.csv", header, [row, row], "\n")
    quoted = tmp_path / "quoted.csv"
    quoted.write_text(",".join(header) + "\n" + '"' + '","'.join(row) + '"\n' + ",".join(row) + "\n")
    gb = tmp_path / "gb.csv"
    gb.write_bytes(plain.read_bytes())
    flagged = {}
    for load_id, (path, encoding) in enumerate([(plain, "utf-8"), (quoted, "utf-8"), (gb, "gb18030")], start=1):
        table = landing.landing_table("trade", load_id)
        with db.transaction():
            landing.land_file(db, spec, path, encoding, table, screen_for("trade"))
        flagged[path.name] = [f for (f,) in db.execute(f"SELECT {SCREENED} FROM {table} ORDER BY source_row")]
    assert flagged == {"plain.csv": [True, True], "quoted.csv": [False, False], "gb.csv": [False, False]}


def test_lines_arrow_cannot_screen_land_unflagged_for_the_rules_to_check(
    tmp_path: Path, db: psycopg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fails(self: object, columns: object, lines: object) -> None:
        raise pa.ArrowInvalid("no such kernel")

    monkeypatch.setattr(RecordScreen, "cleared", fails)
    spec = feed("trade")
    row = [TRADE_BASE[c] for c in spec.column_names]
    path = _write_plain(tmp_path / "plain.csv", list(spec.column_names), [row, row], "\n")
    table = landing.landing_table("trade", 1)
    with db.transaction():
        landed = landing.land_file(db, spec, path, "utf-8", table, screen_for("trade"))
    assert landed.rows_in == 2
    assert db.execute(f"SELECT count(*) FROM {table} WHERE NOT {SCREENED}").fetchone()[0] == 2
