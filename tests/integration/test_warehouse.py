"""The warehouse's SQL checks of dates and instants, against PostgreSQL's own casts.

``sco_util.is_date`` and ``sco_util.is_timestamptz`` decide validity in plain SQL (so rule
queries using them run in parallel workers). They must accept nothing the cast rejects (a
later cast would fail a whole load) and reject nothing the cast accepts in the contract's
ISO 8601 form, except the cast's documented edges: the hour 24 and a leap second.
Both are checked on the test server (PostgreSQL 15) and on the embedded default (18).
"""

from __future__ import annotations

import contextlib
import itertools
import re
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from sco_green.warehouse import DATE_SHAPE, TIMESTAMP_SHAPE, bootstrap, embedded_warehouse

SHAPE = re.compile(TIMESTAMP_SHAPE)
DATE = re.compile(DATE_SHAPE)

YEARS = ["0000", "0001", "1900", "2000", "2023", "2024", "9999"]
MONTHS = ["00", "01", "02", "04", "06", "09", "11", "12", "13"]
DAYS = ["00", "01", "28", "29", "30", "31", "32"]
DATES = [f"{y}-{m}-{d}" for y, m, d in itertools.product(YEARS, MONTHS, DAYS)]
CLOCKS = [
    f"{h}:{mi}{s}"
    for h, mi, s in itertools.product(
        ["00", "09", "23", "24"],
        ["00", "59", "60"],
        ["", ":00", ":59", ":60", ":00.5", ":59.9999999", ":60.0000001", ":00." + "1" * 50],
    )
]
ZONES = ["Z", "+00", "-00", "+14", "+15", "+16", "-15:59", "+15:60", "+1559", "+1600", "+05:30", "-0830", "+5", ""]
ODD = [
    "",
    "2025-01-01",
    "2025-01-01t12:00:00Z",  # lower-case separator
    "2025-1-01T12:00:00Z",
    "２０２５-01-01T12:00:00Z",  # full-width digits
    "2025-01-01T12:00:00+08:00 ",
    "2025-01-01T12:00:00.Z",
    "2025-01-01T12:00:00+08:00:00",
    "2025-01-01T12:00:00 +08:00",
    "2025-01-01T12:00:00." + "1" * 200 + "Z",
]
TIMESTAMPS = (
    [f"{d}T12:00:00+08:00" for d in DATES]
    + [f"2024-02-29{sep}{c}{z}" for sep, c, z in itertools.product("T ", CLOCKS, ZONES)]
    + [f"2023-12-31T{c}{z}" for c, z in itertools.product(CLOCKS, ZONES)]
    + ODD
)

REFERENCE = """
CREATE FUNCTION pg_temp.casts(v text, target regtype) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('SELECT %L::%s', v, target);
  RETURN true;
EXCEPTION WHEN others THEN RETURN false;
END $$;
"""


def _edge(value: str) -> bool:
    """The cast's edges the check rejects on purpose: 24:00 and a leap second."""
    return value[11:13] == "24" or (value[16:17] == ":" and value[17:19] == "60")


@pytest.fixture(params=["server", "embedded"])
def checks(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[psycopg.Connection]:
    if request.param == "server":
        warehouse = contextlib.nullcontext(request.getfixturevalue("warehouse_url"))
    else:
        warehouse = embedded_warehouse(tmp_path / "pgdata")
    with warehouse as url:
        bootstrap(url)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(REFERENCE)
            yield conn


def _verdicts(conn: psycopg.Connection, check: str, target: str, values: list[str]) -> dict[str, tuple[bool, bool]]:
    rows = conn.execute(
        f"SELECT v, sco_util.{check}(v), pg_temp.casts(v, %s) FROM unnest(%s::text[]) AS v", (target, values)
    ).fetchall()
    return {v: (ours, cast) for v, ours, cast in rows}


def test_timestamp_check_is_the_cast_in_the_contract_shape_without_its_edges(checks: psycopg.Connection) -> None:
    verdicts = _verdicts(checks, "is_timestamptz", "timestamptz", TIMESTAMPS)
    accepted_not_castable = [v for v, (ours, cast) in verdicts.items() if ours and not cast]
    assert accepted_not_castable == []
    expected = {
        v: cast and SHAPE.fullmatch(v) is not None and len(v) <= 64 and not _edge(v)
        for v, (_, cast) in verdicts.items()
    }
    wrong = {v: ours for v, (ours, _) in verdicts.items() if ours != expected[v]}
    assert wrong == {}
    # the corpus reaches both verdicts through every field
    assert sum(expected.values()) > 500 and sum(not e for e in expected.values()) > 500


# The feeds' usual forms, which the check takes on a shorter path, and every text one character
# away from them: each position replaced by each of these, dropped, or doubled.
USUAL = ["2025-02-03T02:24:52+06:00", "2024-02-29T23:59:59-15:59", "2023-12-31T00:00:00Z"]
STAND_INS = "0123456789-+:TZ .a９"


def _one_edit_away(value: str) -> set[str]:
    near = set()
    for i in range(len(value)):
        near.update(value[:i] + c + value[i + 1 :] for c in STAND_INS)
        near.add(value[:i] + value[i + 1 :])
        near.add(value[:i] + value[i] + value[i:])
    return near


def test_timestamp_checks_short_path_agrees_with_the_cast_one_edit_from_the_usual_form(
    checks: psycopg.Connection,
) -> None:
    values = sorted(set(USUAL).union(*(_one_edit_away(v) for v in USUAL)))
    verdicts = _verdicts(checks, "is_timestamptz", "timestamptz", values)
    expected = {v: cast and SHAPE.fullmatch(v) is not None and not _edge(v) for v, (_, cast) in verdicts.items()}
    assert {v: ours for v, (ours, _) in verdicts.items() if ours != expected[v]} == {}
    assert all(expected[v] for v in USUAL)
    assert sum(expected.values()) > 100 and sum(not e for e in expected.values()) > 500


def test_timestamp_check_rejects_the_day_after_a_months_end_and_keeps_leap_days(checks: psycopg.Connection) -> None:
    got = _verdicts(
        checks,
        "is_timestamptz",
        "timestamptz",
        ["2024-02-29T00:00:00Z", "2023-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2000-02-29T00:00:00Z"],
    )
    assert {v: ours for v, (ours, _) in got.items()} == {
        "2024-02-29T00:00:00Z": True,
        "2023-02-29T00:00:00Z": False,
        "1900-02-29T00:00:00Z": False,
        "2000-02-29T00:00:00Z": True,
    }
    assert checks.execute("SELECT sco_util.is_timestamptz(NULL)").fetchone()[0] is None


def test_date_check_is_the_cast_of_a_plain_iso_date(checks: psycopg.Connection) -> None:
    values = DATES + ["2025-01-01T00:00:00Z", "20250101", "2025-1-1", " 2025-01-01", "", "2025-01-01 "]
    verdicts = _verdicts(checks, "is_date", "date", values)
    assert [v for v, (ours, cast) in verdicts.items() if ours and not cast] == []
    expected = {v: cast and DATE.fullmatch(v) is not None for v, (_, cast) in verdicts.items()}
    assert {v: ours for v, (ours, _) in verdicts.items() if ours != expected[v]} == {}
    assert sum(expected.values()) > 100
    assert checks.execute("SELECT sco_util.is_date(NULL)").fetchone()[0] is None


def test_rule_queries_using_the_checks_may_run_in_parallel(checks: psycopg.Connection) -> None:
    """A subtransaction per value (the old cast in a sub-block) made every such rule serial."""
    unsafe = checks.execute(
        "SELECT proname FROM pg_proc WHERE pronamespace = 'sco_util'::regnamespace AND proparallel <> 's'"
    ).fetchall()
    assert unsafe == []
