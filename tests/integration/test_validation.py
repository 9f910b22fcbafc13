"""Every contract rule as a GX expectation: one known bad row per rule, block, warn, audit rows."""

from __future__ import annotations

import csv
import subprocess
import sys
from datetime import date
from pathlib import Path

import psycopg
import pytest

from expectations.feed_rules import rules_for
from sco_green import validation
from sco_green.feeds import FEEDS, TRADE
from sco_green.generate import generate, member_fault_rows, ticket_fault_rows, trade_fault_rows
from sco_green.pipeline import ingest_feed, land, validate
from sco_green.validation import ValidationFailed
from tests.conftest import trade_row, write_csv

DAY = date(2025, 12, 29)
CLEAN_FILES = {
    "members": "members/members_20251229.csv",
    "trade": "trade/trade_2020_2025_r0.csv",
    "recycling": "recycling/tickets_BATKEN_2025H1.csv",
}
FAULTS = {
    **{rule: ("members", rows) for rule, rows in member_fault_rows(DAY).items()},
    **{rule: ("trade", rows) for rule, rows in trade_fault_rows().items()},
    **{rule: ("recycling", rows) for rule, rows in ticket_fault_rows().items()},
}


@pytest.fixture(scope="module")
def clean_inbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("clean")
    generate(root, cycle=1)
    return root


def _clean_rows(clean_inbox: Path, feed: str) -> tuple[list[str], list[list[str]]]:
    with open(clean_inbox / CLEAN_FILES[feed], encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:120]


def test_every_contract_rule_id_has_a_fault_row() -> None:
    ids = {f"M0{i}" for i in range(1, 8)} | {f"T{i:02d}" for i in range(1, 11)} | {f"R{i:02d}" for i in range(1, 13)}
    assert set(FAULTS) == ids
    declared = {r.rule_id for feed in FEEDS for r in rules_for(feed, "members_20251229.csv")}
    assert ids <= declared


@pytest.mark.parametrize("rule_id", sorted(FAULTS))
def test_one_bad_row_is_quarantined_with_exactly_its_rule(
    rule_id: str, clean_inbox: Path, tmp_path: Path, db: psycopg.Connection, warehouse_url: str
) -> None:
    feed, bad_rows = FAULTS[rule_id]
    header, rows = _clean_rows(clean_inbox, feed)
    write_csv(tmp_path / CLEAN_FILES[feed], header, rows + bad_rows)
    ingest_feed(feed, tmp_path, warehouse_url, DAY)
    status, rows_in, loaded, quarantined = db.execute(
        "SELECT status, rows_in, rows_loaded, rows_quarantined FROM audit.load_ledger"
    ).fetchone()
    assert status == "loaded"
    assert (rows_in, loaded, quarantined) == (len(rows) + len(bad_rows), len(rows), len(bad_rows))
    got = db.execute("SELECT row_number, rules FROM audit.quarantine ORDER BY row_number").fetchall()
    expected_rows = list(range(len(rows) + 1, len(rows) + len(bad_rows) + 1))
    assert got == [(n, [rule_id]) for n in expected_rows]
    raw = db.execute("SELECT raw FROM audit.quarantine ORDER BY row_number").fetchone()[0]
    assert raw == {k: (v if v != "" else None) for k, v in zip(header, bad_rows[0], strict=True)}
    counted = db.execute(
        "SELECT unexpected_count FROM audit.validation_results WHERE observed->>'rule_id' = %s", (rule_id,)
    ).fetchone()[0]
    assert counted == len(bad_rows)


def _force_parallel_plans(db: psycopg.Connection) -> None:
    guc = "debug_parallel_query" if db.info.server_version >= 160000 else "force_parallel_mode"
    db.execute(f"ALTER DATABASE {db.info.dbname} SET {guc} = on")


@pytest.mark.parametrize("plans", ["as planned", "parallel"])
def test_duplicate_keys_are_found_with_empty_key_parts_equal_and_only_them(
    plans: str, tmp_path: Path, db: psycopg.Connection, warehouse_url: str
) -> None:
    """T10 compares keys, NULL parts equal (a key hash only narrows the rows it compares).

    Large files get parallel plans, where workers sort and count the key hashes.
    """
    if plans == "parallel":
        _force_parallel_plans(db)
    rows = [trade_row(i) for i in range(200)]
    rows += [
        trade_row(1, trade_value_usd="5"),
        trade_row(7, hs6=""),
        trade_row(7, hs6=""),
        trade_row(8, hs6="", flow="M"),
    ]
    write_csv(tmp_path / "trade" / "trade_dups.csv", TRADE.column_names, rows)
    ingest_feed("trade", tmp_path, warehouse_url, DAY)
    got = db.execute("SELECT row_number, rules FROM audit.quarantine ORDER BY row_number").fetchall()
    assert got == [(2, ["T10"]), (201, ["T10"]), (202, ["T06", "T10"]), (203, ["T06", "T10"]), (204, ["T06"])]


@pytest.mark.parametrize("feed", sorted(CLEAN_FILES))
def test_clean_file_quarantines_nothing_and_records_every_expectation(
    feed: str, clean_inbox: Path, tmp_path: Path, db: psycopg.Connection, warehouse_url: str
) -> None:
    header, rows = _clean_rows(clean_inbox, feed)
    write_csv(tmp_path / CLEAN_FILES[feed], header, rows)
    ingest_feed(feed, tmp_path, warehouse_url, DAY)
    assert db.execute("SELECT count(*) FROM audit.quarantine").fetchone()[0] == 0
    results = db.execute(
        "SELECT l.load_id, count(*), bool_and(v.success) FROM audit.validation_results v "
        "JOIN audit.load_ledger l USING (load_id) GROUP BY 1"
    ).fetchall()
    assert len(results) == 1
    assert results[0][1] == len(rules_for(feed, Path(CLEAN_FILES[feed]).name))
    assert results[0][2] is True


def test_more_than_twenty_percent_bad_blocks_the_whole_file(
    tmp_path: Path, db: psycopg.Connection, warehouse_url: str
) -> None:
    rows = [trade_row(i) for i in range(10)] + [trade_row(90 + i, flow="Q") for i in range(3)]
    write_csv(tmp_path / "trade" / "trade_blocked.csv", list(TRADE.column_names), rows)
    ingest_feed("trade", tmp_path, warehouse_url, DAY)
    status, rows_in, loaded, quarantined, reason = db.execute(
        "SELECT status, rows_in, rows_loaded, rows_quarantined, reason FROM audit.load_ledger"
    ).fetchone()
    assert (status, rows_in, loaded, quarantined) == ("blocked", 13, 0, 3)
    assert "20%" in reason
    assert db.execute("SELECT count(*) FROM raw.trade").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM audit.quarantine").fetchone()[0] == 3


def test_exactly_twenty_percent_bad_still_publishes(tmp_path: Path, db: psycopg.Connection, warehouse_url: str) -> None:
    rows = [trade_row(i) for i in range(8)] + [trade_row(90 + i, flow="Q") for i in range(2)]
    write_csv(tmp_path / "trade" / "trade_edge.csv", list(TRADE.column_names), rows)
    ingest_feed("trade", tmp_path, warehouse_url, DAY)
    assert db.execute("SELECT status, rows_loaded FROM audit.load_ledger").fetchone() == ("loaded", 8)


def test_unit_value_outlier_warns_and_still_publishes(
    tmp_path: Path, db: psycopg.Connection, warehouse_url: str
) -> None:
    rows = [trade_row(i, hs6="854143", partner_iso3=p) for i, p in enumerate(("KAZ", "RUS", "UZB", "KGZ", "TJK"))]
    rows.append(trade_row(9, hs6="854143", partner_iso3="PAK", trade_value_usd="1000000.00", net_weight_kg="10"))
    write_csv(tmp_path / "trade" / "trade_outlier.csv", list(TRADE.column_names), rows)
    ingest_feed("trade", tmp_path, warehouse_url, DAY)
    assert db.execute("SELECT status, rows_loaded, rows_quarantined FROM audit.load_ledger").fetchone() == (
        "loaded",
        6,
        0,
    )
    warn = db.execute(
        "SELECT severity, success, unexpected_count FROM audit.validation_results "
        "WHERE observed->>'rule_id' = 'unit_value_outlier'"
    ).fetchone()
    assert warn == ("warn", False, 1)


def test_unit_value_median_groups_a_year_by_its_value_not_its_spelling(
    tmp_path: Path, db: psycopg.Connection, warehouse_url: str
) -> None:
    """02024 is published as the year 2024, so it is compared with 2024's median, not alone."""
    rows = [trade_row(i, hs6="854143", partner_iso3=p) for i, p in enumerate(("KAZ", "RUS", "UZB", "KGZ", "TJK"))]
    rows.append(
        trade_row(9, year="02024", hs6="854143", partner_iso3="PAK", trade_value_usd="1000000.00", net_weight_kg="10")
    )
    write_csv(tmp_path / "trade" / "trade_outlier.csv", list(TRADE.column_names), rows)
    ingest_feed("trade", tmp_path, warehouse_url, DAY)
    assert db.execute("SELECT status, rows_loaded FROM audit.load_ledger").fetchone() == ("loaded", 6)
    warn = db.execute(
        "SELECT unexpected_count FROM audit.validation_results WHERE observed->>'rule_id' = 'unit_value_outlier'"
    ).fetchone()
    assert warn == (1,)


def test_unit_value_median_is_of_the_rows_the_file_would_publish(
    tmp_path: Path, db: psycopg.Connection, warehouse_url: str
) -> None:
    """Quarantined rows are neither priced nor part of the median: five rows at 10 usd/kg and four
    at 1,000 have the median 10, so the four are warned of; with the two quarantined rows at
    1,000 the median would be 1,000 and the five would be warned of instead."""
    partners = iter(("KAZ", "RUS", "UZB", "KGZ", "TJK", "PAK", "IND", "IRN", "BLR", "MNG", "AFG"))
    rows = [trade_row(0, hs6="854143", partner_iso3=next(partners), trade_value_usd="100.00") for _ in range(5)]
    rows += [trade_row(0, hs6="854143", partner_iso3=next(partners), trade_value_usd="10000.00") for _ in range(4)]
    rows += [
        trade_row(0, hs6="854143", partner_iso3=next(partners), trade_value_usd="10000.00", flow="Q") for _ in range(2)
    ]
    write_csv(tmp_path / "trade" / "trade_outlier.csv", list(TRADE.column_names), rows)
    ingest_feed("trade", tmp_path, warehouse_url, DAY)
    ledger = db.execute("SELECT status, rows_loaded, rows_quarantined FROM audit.load_ledger").fetchone()
    assert ledger == ("loaded", 9, 2)
    assert db.execute("SELECT DISTINCT rules FROM audit.quarantine").fetchall() == [(["T04"],)]
    warned = db.execute(
        "SELECT unexpected_count FROM audit.validation_results WHERE observed->>'rule_id' = 'unit_value_outlier'"
    ).fetchone()
    assert warned == (4,)


def test_feed_without_new_file_for_three_days_is_warned(
    tmp_path: Path, db: psycopg.Connection, warehouse_url: str
) -> None:
    write_csv(tmp_path / "trade" / "trade_a.csv", list(TRADE.column_names), [trade_row(1)])
    ingest_feed("trade", tmp_path, warehouse_url, date(2025, 12, 1))
    ingest_feed("trade", tmp_path, warehouse_url, date(2025, 12, 4))
    fresh = "SELECT observed FROM audit.validation_results WHERE observed->>'rule_id' = 'feed_freshness'"
    assert db.execute(fresh).fetchall() == []
    ingest_feed("trade", tmp_path, warehouse_url, date(2025, 12, 5))
    [(observed,)] = db.execute(fresh).fetchall()
    assert observed["days_without_new_file"] == 4 and observed["last_new_file"] == "2025-12-01"


def test_a_rule_that_cannot_run_fails_validation_instead_of_passing(
    tmp_path: Path, db: psycopg.Connection, warehouse_url: str
) -> None:
    write_csv(tmp_path / "trade" / "trade_a.csv", list(TRADE.column_names), [trade_row(1)])
    entries = land("trade", tmp_path, warehouse_url)
    db.execute("DROP FUNCTION sco_util.is_int(text)")
    with pytest.raises(ValidationFailed, match="could not run: function sco_util.is_int"):
        validate(entries, warehouse_url)


def test_validation_survives_parallel_query_plans(
    clean_inbox: Path, tmp_path: Path, db: psycopg.Connection, warehouse_url: str
) -> None:
    """Large files get parallel plans; the safe-parse helpers must be usable in them."""
    _force_parallel_plans(db)
    header, rows = _clean_rows(clean_inbox, "recycling")
    write_csv(tmp_path / CLEAN_FILES["recycling"], header, rows + ticket_fault_rows()["R05"])
    ingest_feed("recycling", tmp_path, warehouse_url, DAY)
    assert db.execute("SELECT status, rows_quarantined FROM audit.load_ledger").fetchone() == ("loaded", 1)


def test_validation_reconnects_after_the_server_closed_its_pooled_connections(
    tmp_path: Path, db: psycopg.Connection, warehouse_url: str
) -> None:
    """A long-lived process keeps GX's engine; a restart in between must not fail the next file."""
    first = [trade_row(i) for i in range(20)]
    write_csv(tmp_path / "trade" / "trade_a.csv", list(TRADE.column_names), first)
    ingest_feed("trade", tmp_path, warehouse_url, DAY)
    closed = db.execute(
        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    ).fetchone()[0]
    assert closed >= 1  # GX's pooled connection was among them
    write_csv(tmp_path / "trade" / "trade_b.csv", list(TRADE.column_names), [trade_row(100 + i) for i in range(20)])
    ingest_feed("trade", tmp_path, warehouse_url, DAY)
    assert db.execute("SELECT file_name, status FROM audit.load_ledger ORDER BY load_id").fetchall() == [
        ("trade_a.csv", "loaded"),
        ("trade_b.csv", "loaded"),
    ]


def test_data_docs_are_rebuilt_only_when_a_run_validated_a_file(tmp_path: Path) -> None:
    from sco_green.paths import var_dir
    from sco_green.validation import refresh_data_docs

    index = var_dir() / "data_docs" / "index.html"
    if index.exists():
        index.unlink()
    assert refresh_data_docs({}) == index and index.exists()  # a missing site is always built
    index.write_text("marker", encoding="utf-8")
    refresh_data_docs({"duplicate": 1, "rejected": 1})
    assert index.read_text(encoding="utf-8") == "marker"
    refresh_data_docs({"loaded": 1})
    assert "marker" not in index.read_text(encoding="utf-8")


def test_a_night_without_files_never_imports_great_expectations(tmp_path: Path, warehouse_url: str) -> None:
    code = (
        "import sys\n"
        "from datetime import date\n"
        "from sco_green import pipeline, warehouse\n"
        "url, inbox = sys.argv[1:3]\n"
        "warehouse.bootstrap(url)\n"
        "entries = pipeline.validate(pipeline.land('trade', inbox, url), url)\n"
        "pipeline.publish(entries, url, 'trade', date(2025, 1, 1))\n"
        "print('great_expectations' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, warehouse_url, str(tmp_path)], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "False"


def test_landing_never_imports_great_expectations_and_validating_imports_it_while_the_rules_run(
    clean_inbox: Path, tmp_path: Path, warehouse_url: str
) -> None:
    """A land-only process (Airflow's land task) never imports GX; validating starts importing it
    in the background before the server runs the first file's rules, ready for the suite."""
    header, rows = _clean_rows(clean_inbox, "trade")
    write_csv(tmp_path / CLEAN_FILES["trade"], header, rows)
    code = (
        "import sys\n"
        "from sco_green import pipeline, validation, warehouse\n"
        "url, inbox = sys.argv[1:3]\n"
        "warehouse.bootstrap(url)\n"
        "entries = pipeline.land('trade', inbox, url)\n"
        "print(entries[0].rows_in, 'great_expectations' in sys.modules)\n"
        "tag_and_cast = validation._tag_and_cast\n"
        "def watched(*args):\n"
        "    print('importing as the rules run:', validation._warming.name)\n"
        "    return tag_and_cast(*args)\n"
        "validation._tag_and_cast = watched\n"
        "print(pipeline.validate(entries, url)[0].status)\n"
    )
    done = subprocess.run([sys.executable, "-c", code, warehouse_url, str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    expected = [f"{len(rows)} False", "importing as the rules run: import-gx", "loaded"]
    assert done.stdout.strip().splitlines()[-3:] == expected


def test_every_files_rules_run_before_gx_counts_the_first_files_tags(
    clean_inbox: Path, tmp_path: Path, db: psycopg.Connection, warehouse_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Validating several files runs all their rules in the server first, then GX's suite on each:
    GX's import overlaps every file's server work, and each file keeps its own result."""
    header, rows = _clean_rows(clean_inbox, "trade")
    write_csv(tmp_path / "trade" / "trade_2024_r0.csv", header, rows[:60])
    write_csv(tmp_path / "trade" / "trade_2025_r0.csv", header, rows[60:])
    steps: list[tuple[str, str]] = []
    tag_and_cast, run_suite = validation._tag_and_cast, validation.run_suite

    def tagging(url, rules, spec, landing, load_id, file_name):  # noqa: ANN001, ANN202
        steps.append(("rules", file_name))
        return tag_and_cast(url, rules, spec, landing, load_id, file_name)

    def counting(url, feed_name, file_name, table):  # noqa: ANN001, ANN202
        steps.append(("suite", file_name))
        return run_suite(url, feed_name, file_name, table)

    monkeypatch.setattr(validation, "_tag_and_cast", tagging)
    monkeypatch.setattr(validation, "run_suite", counting)
    entries = validate(land("trade", tmp_path, warehouse_url), warehouse_url)
    names = [entry.file_name for entry in entries]
    assert steps == [("rules", name) for name in names] + [("suite", name) for name in names]
    assert len(names) == 2
    assert [(entry.status, entry.validation.typed_rows) for entry in entries] == [("loaded", 60), ("loaded", 59)]


INTEGER_SHAPES = {
    "0": True,
    "2025": True,
    "-7": True,
    "+7": True,
    "9" * 18: True,
    "-" + "9" * 18: True,
    "9" * 19: False,  # beyond 18 digits
    "+" + "9" * 19: False,
    "": False,
    "+": False,
    "+-1": False,
    "1.0": False,
    " 1": False,
    "1e3": False,
    "２０２５": False,  # full-width digits
}


def test_integer_check_accepts_a_sign_and_one_to_eighteen_digits_only(db: psycopg.Connection) -> None:
    found = {value: db.execute("SELECT sco_util.is_int(%s::text)", (value,)).fetchone()[0] for value in INTEGER_SHAPES}
    assert found == INTEGER_SHAPES
    assert db.execute("SELECT sco_util.is_int(NULL)").fetchone()[0] is None


SIX_DIGIT_SHAPES = {
    "854143": True,
    "000000": True,
    "85414": False,
    "8541430": False,
    "85414a": False,
    "+85414": False,
    " 85414": False,
    "８５４１４３": False,  # full-width digits are six characters, not six digits
    "": False,
}


def test_six_digit_check_accepts_exactly_six_ascii_digits(db: psycopg.Connection) -> None:
    from expectations.rules import digits

    check = digits("v", 6)
    found = {
        value: db.execute(f"SELECT {check} FROM (SELECT %s::text AS v) AS one", (value,)).fetchone()[0]
        for value in SIX_DIGIT_SHAPES
    }
    assert found == SIX_DIGIT_SHAPES
    assert db.execute(f"SELECT {check} FROM (SELECT NULL::text AS v) AS one").fetchone()[0] is None


HUGE = "1" + "0" * 400  # a valid decimal far beyond double precision
TINY = "0." + "0" * 400 + "1"  # a valid decimal far below it
EXTREME_FIGURES = {
    # cells: (status of the odd row: published, or the rule that quarantines it; unit-value warnings)
    "revision at the int maximum": ({"revision": "2147483647"}, "published", 0),
    "revision beyond an int": ({"revision": "2147483648"}, "T09", 0),
    "value of 401 digits": ({"trade_value_usd": HUGE}, "published", 1),
    "weight of 1e-401": ({"net_weight_kg": TINY}, "published", 1),
    "value 1e-401": ({"trade_value_usd": TINY}, "published", 1),
    "value too long for numeric": ({"trade_value_usd": "1" * 16384}, "T07", 0),
    "weight too long for numeric": ({"net_weight_kg": "0." + "1" * 16382}, "T08", 0),
}


@pytest.mark.parametrize("case", sorted(EXTREME_FIGURES))
def test_an_extreme_figure_is_judged_by_its_rules_and_never_fails_the_load(
    case: str, tmp_path: Path, db: psycopg.Connection, warehouse_url: str
) -> None:
    """One absurd cell must not stop a file: it parses and is published (and priced), or breaks its rule."""
    changes, outcome, warnings = EXTREME_FIGURES[case]
    rows = [trade_row(i, hs6="854143", partner_iso3=p) for i, p in enumerate(("KAZ", "RUS", "UZB", "KGZ", "TJK"))]
    rows.append(trade_row(9, hs6="854143", partner_iso3="PAK", **changes))
    write_csv(tmp_path / "trade" / "trade_extreme.csv", list(TRADE.column_names), rows)
    ingest_feed("trade", tmp_path, warehouse_url, DAY)
    quarantined = db.execute("SELECT rules FROM audit.quarantine").fetchall()
    if outcome == "published":
        assert db.execute("SELECT status, rows_loaded FROM audit.load_ledger").fetchone() == ("loaded", 6)
        assert quarantined == []
        column, text = next(iter(changes.items()))
        published = db.execute(f"SELECT {column}::text FROM raw.trade WHERE partner_iso3 = 'PAK'").fetchone()[0]
        assert published.lstrip("0") == text.lstrip("0")
    else:
        assert db.execute("SELECT status, rows_loaded FROM audit.load_ledger").fetchone() == ("loaded", 5)
        assert quarantined == [([outcome],)]
    warned = db.execute(
        "SELECT unexpected_count FROM audit.validation_results WHERE observed->>'rule_id' = 'unit_value_outlier'"
    ).fetchone()[0]
    assert warned == warnings


def test_clamped_double_keeps_sign_and_null_and_never_raises(db: psycopg.Connection) -> None:
    got = db.execute(
        f"SELECT sco_util.clamp_float8({HUGE}::numeric), sco_util.clamp_float8(-{HUGE}::numeric), "
        f"sco_util.clamp_float8({TINY}::numeric), sco_util.clamp_float8(2.5), sco_util.clamp_float8(NULL)"
    ).fetchone()
    assert got == (1e300, -1e300, 0.0, 2.5, None)


def test_a_file_wider_than_a_table_lands_its_extra_cells_as_one_object(
    tmp_path: Path, db: psycopg.Connection, warehouse_url: str
) -> None:
    """1,600 extra columns (more than a PostgreSQL table holds): the file loads, the extras are
    ignored with a warning, and a quarantined row still keeps every original cell."""
    extras = [f"note_{i}" for i in range(1599)] + ["note_0"]
    header = list(TRADE.column_names) + extras
    filler = [f"v{i}" if i % 3 else "" for i in range(len(extras))]
    rows = [trade_row(i) + filler for i in range(10)] + [trade_row(50, flow="Q") + filler]
    write_csv(tmp_path / "trade" / "trade_wide.csv", header, rows)
    ingest_feed("trade", tmp_path, warehouse_url, DAY)
    status, loaded, quarantined, reason = db.execute(
        "SELECT status, rows_loaded, rows_quarantined, reason FROM audit.load_ledger"
    ).fetchone()
    assert (status, loaded, quarantined) == ("loaded", 10, 1)
    assert reason.startswith("warnings: extra columns ignored: note_0, note_1,")
    assert "and 1580 more" in reason
    raw = db.execute("SELECT raw FROM audit.quarantine").fetchone()[0]
    assert len(raw) == len(header)
    assert (
        raw["flow"] == "Q"
        and raw["note_0"] is None
        and raw["note_1"] == "v1"
        and raw["note_1598"] == "v1598"
        and "note_0#2" in raw
    )
    observed = db.execute(
        "SELECT observed->'extra_columns' FROM audit.validation_results WHERE observed->>'rule_id' = 'extra_columns'"
    ).fetchone()[0]
    assert observed == extras


def test_rule_sessions_keep_the_urls_own_options_and_add_the_planner_settings() -> None:
    from sco_green.validation import rule_session_options

    assert rule_session_options("postgresql://u@h/db") == "-c parallel_tuple_cost=0.01"
    own = "postgresql://u@h/db?options=-c%20statement_timeout%3D5000"
    assert rule_session_options(own) == "-c statement_timeout=5000 -c parallel_tuple_cost=0.01"


def test_great_expectations_queries_run_with_the_rule_session_settings(
    tmp_path: Path, db: psycopg.Connection, warehouse_url: str
) -> None:
    import sqlalchemy as sa

    from sco_green import validation

    context = validation._context_at(str(tmp_path / "gx"))
    engine = validation._datasource(context, warehouse_url).get_engine()
    with engine.connect() as conn:
        assert conn.execute(sa.text("SHOW parallel_tuple_cost")).scalar() == "0.01"
