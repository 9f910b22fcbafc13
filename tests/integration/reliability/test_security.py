"""Reliability matrix, security: the contract's roles on a warehouse after a real night, the
report authors' manual's queries as a reporter, credentials never in the repository or the
logs, and SQL built from file content quoted, never executed."""

from __future__ import annotations

import re
import subprocess
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import psycopg
import pytest
from psycopg import errors, sql

from sco_green.cli import main
from sco_green.feeds import TRADE
from sco_green.generate import generate
from sco_green.paths import project_root, var_dir
from sco_green.pipeline import ingest_feed
from tests.conftest import scratch_warehouse, trade_row, write_csv

DAY = date(2025, 12, 29)

SECRETS = {
    "SCO_LOADER_PASSWORD": f"loader-{uuid.uuid4().hex}",
    "SCO_REPORTER_PASSWORD": f"reporter-{uuid.uuid4().hex}",
    "SCO_AUDITOR_PASSWORD": f"auditor-{uuid.uuid4().hex}",
    "SCO_TRANSFORMER_PASSWORD": f"transformer-{uuid.uuid4().hex}",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One database that has been through a night, with passwords set from the environment."""
    env = {**SECRETS, "SCO_REPORTER_STATEMENT_TIMEOUT": "1s"}
    with scratch_warehouse("sco_roles", env) as url:
        inbox = tmp_path_factory.mktemp("roles") / "inbox"
        generate(inbox, cycle=1, faults=True)
        assert main(["nightly", "--inbox", str(inbox), "--logical-date", "2025-12-29"]) == 0
        yield url


def _as(url: str, role: str) -> psycopg.Connection:
    """A session that has switched to ``role`` (privileges as that role)."""
    conn = psycopg.connect(url, autocommit=True)
    conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
    return conn


def _denied(conn: psycopg.Connection, statement: str) -> bool:
    try:
        conn.execute(statement)
    except errors.InsufficientPrivilege:
        return True
    return False


def test_reporter_reads_marts_only_and_writes_nothing(built: str) -> None:
    with _as(built, "sco_reporter") as conn:
        assert conn.execute("SELECT count(*) FROM marts.fct_trade").fetchone()[0] > 0
        assert _denied(conn, "SELECT 1 FROM raw.trade LIMIT 1")
        assert _denied(conn, "SELECT 1 FROM audit.load_ledger LIMIT 1")
        assert _denied(conn, "SELECT 1 FROM audit.quarantine LIMIT 1")
        assert _denied(conn, "SELECT 1 FROM marts_build.fct_trade LIMIT 1")
        assert _denied(conn, "DELETE FROM marts.fct_trade")
        assert _denied(conn, "CREATE TABLE marts.mine (x int)")


def test_auditor_reads_audit_and_marts_read_only(built: str) -> None:
    with _as(built, "sco_auditor") as conn:
        assert conn.execute("SELECT count(*) FROM audit.quarantine").fetchone()[0] > 0
        assert conn.execute("SELECT count(*) FROM audit.validation_results").fetchone()[0] > 0
        assert conn.execute("SELECT count(*) FROM marts.rpt_country_green_trade").fetchone()[0] > 0
        assert _denied(conn, "SELECT 1 FROM raw.members LIMIT 1")
        assert _denied(conn, "UPDATE audit.load_ledger SET reason = 'x'")
        assert _denied(conn, "DELETE FROM marts.dim_members")


def test_only_the_loader_writes_raw(built: str) -> None:
    with _as(built, "sco_loader") as conn:
        conn.execute("DELETE FROM raw.trade WHERE false")
        assert _denied(conn, "SELECT 1 FROM marts.fct_trade LIMIT 1")
        assert _denied(conn, "DELETE FROM marts.fct_trade")
    for role in ("sco_transformer", "sco_reporter", "sco_auditor"):
        with _as(built, role) as conn:
            assert _denied(conn, "DELETE FROM raw.trade WHERE false"), role
            assert _denied(conn, "INSERT INTO audit.quarantine SELECT * FROM audit.quarantine WHERE false"), role


def test_runaway_reporter_query_is_stopped_by_its_timeout(built: str) -> None:
    reporter_url = re.sub(r"://[^@/]*@", "://sco_reporter@", built)
    with psycopg.connect(reporter_url, password=SECRETS["SCO_REPORTER_PASSWORD"], autocommit=True) as conn:
        assert conn.execute("SHOW statement_timeout").fetchone()[0] == "1s"
        with pytest.raises(errors.QueryCanceled):
            conn.execute("SELECT pg_sleep(5)")


def test_the_report_authors_manual_queries_run_for_a_reporter(built: str) -> None:
    readme = (project_root() / "docs" / "report-authors.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sql\n(.*?)```", readme, flags=re.S)
    statements = [s.strip() for block in blocks for s in block.split(";") if s.strip()]
    statements = [s for s in statements if not all(line.startswith("--") for line in s.splitlines())]
    assert len(statements) >= 3
    with _as(built, "sco_reporter") as conn:
        for statement in statements:
            rows = conn.execute(statement).fetchall()
            assert rows, statement


def test_no_password_appears_in_the_run_logs(built: str) -> None:
    logs = list(Path(var_dir(), "logs").rglob("*.log")) + list(Path(var_dir(), "airflow").rglob("*.log"))
    assert logs
    for path in logs:
        text = path.read_text(encoding="utf-8", errors="replace")
        for secret in SECRETS.values():
            assert secret not in text, path


def test_hostile_header_is_quoted_not_executed(tmp_path: Path, db: psycopg.Connection, warehouse_url: str) -> None:
    evil = 'a"; drop table audit.load_ledger; --'
    write_csv(tmp_path / "trade" / "trade_evil.csv", [*TRADE.column_names, evil], [trade_row(1) + ["x"]])
    write_csv(tmp_path / "trade" / "trade_evil2.csv", [evil, *TRADE.column_names[1:]], [trade_row(2)])
    ingest_feed("trade", tmp_path, warehouse_url, DAY)
    ledger = db.execute("SELECT file_name, status, reason FROM audit.load_ledger ORDER BY load_id").fetchall()
    assert [(r[0], r[1]) for r in ledger] == [("trade_evil.csv", "loaded"), ("trade_evil2.csv", "rejected")]
    assert evil in ledger[0][2]
    warn = db.execute("SELECT observed->'extra_columns' FROM audit.validation_results WHERE expectation LIKE 'extra%'")
    assert warn.fetchone()[0] == [evil]


PLACEHOLDER = re.compile(r"^(\$\{\w+\}|\{\{|change-me|)$")  # ${VAR}, dbt env_var(), the example
URL_PASSWORD = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@'\"]+:([^@\s'\"]+)@")
ASSIGNED_SECRET = re.compile(r"(?i)\b\w*(password|secret|token|fernet_key)\w*[ \t]*[:=][ \t]*['\"]?([^\s'\"#]*)")
PRIVATE_KEY = re.compile("-----BEGIN " + "[A-Z ]*PRIVATE KEY-----")
CONFIG_SUFFIXES = {".yml", ".yaml", ".toml", ".cfg", ".ini", ".sh", ".md", ".example", ".json", ".sql"}


def test_no_credential_is_committed_to_the_repository() -> None:
    """Credentials come from the environment (or Airflow connections from it): every tracked
    file holds at most a ${VAR} placeholder or the example's change-me, and no .env is tracked."""
    root = project_root()
    tracked = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True, check=True).stdout.split()
    assert tracked
    assert not [f for f in tracked if Path(f).name == ".env"]
    found = []
    for name in tracked:
        path = root / name
        if name == "uv.lock" or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if PRIVATE_KEY.search(text):
            found.append(f"{name}: private key")
        for match in URL_PASSWORD.finditer(text):
            if not PLACEHOLDER.match(match.group(1)):
                found.append(f"{name}: password in URL {match.group(0)}")
        if path.suffix in CONFIG_SUFFIXES or path.name in {"Dockerfile", ".env.example"}:
            for match in ASSIGNED_SECRET.finditer(text):
                if not PLACEHOLDER.match(match.group(2)):
                    found.append(f"{name}: {match.group(0)}")
    assert found == []
