"""Run dbt against the warehouse, with the profile's credentials taken from WAREHOUSE_URL."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sco_green.paths import dbt_project_dir
from sco_green.warehouse import url_parts, warehouse_url


class DbtFailed(RuntimeError):
    """dbt ran and reported an error or a failing test."""


def dbt_env(url: str | None = None) -> dict[str, str]:
    parts = url_parts(url or warehouse_url())
    return {
        "SCO_DBT_HOST": parts["host"],
        "SCO_DBT_PORT": parts["port"],
        "SCO_DBT_USER": parts["user"],
        "SCO_DBT_PASSWORD": parts["password"],
        "SCO_DBT_DBNAME": parts["dbname"],
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        # No JIT compilation in dbt's sessions: PostgreSQL compiles any query its planner costs
        # high, which is every query over the large tables, and that takes about half a second
        # while a night's incremental statements run in a fraction of that.
        "PGOPTIONS": _without_jit(os.environ.get("PGOPTIONS", "")),
    }


def _without_jit(options: str) -> str:
    return options if "jit=" in options else f"{options} -c jit=off".strip()


def apply_dbt_env(url: str | None = None) -> None:
    os.environ.update(dbt_env(url))


def ensure_manifest() -> Path:
    """Write target/manifest.json for Cosmos when it is missing or older than the project files.

    ``dbt parse`` needs no warehouse connection; partial parsing keeps it to a second or two.
    """
    project = dbt_project_dir()
    manifest = project / "target" / "manifest.json"
    sources = [p for p in project.rglob("*") if p.suffix in (".sql", ".yml", ".csv") and "target" not in p.parts]
    newest = max(p.stat().st_mtime for p in sources)
    if manifest.exists() and manifest.stat().st_mtime >= newest:
        return manifest
    for key, value in dbt_env("postgresql://parse@localhost:5432/parse").items():
        os.environ.setdefault(key, value)
    run_dbt(["parse", "--quiet"], url=None, env_ready=True)
    return manifest


def run_dbt(args: Sequence[str], url: str | None = None, *, env_ready: bool = False) -> Any:
    """Invoke dbt in-process; return dbt's result (the command's results, e.g. each node's
    compiled code), or raise DbtFailed with the first failing node's message."""
    from dbt.cli.main import dbtRunner

    if not env_ready:
        apply_dbt_env(url)
    project = str(dbt_project_dir())
    # Options go after the whole subcommand ("docs generate"), before the subcommand's own flags.
    words = 0
    while words < len(args) and not args[words].startswith("-"):
        words += 1
    command = [*args[:words], "--project-dir", project, "--profiles-dir", project, *args[words:]]
    result = dbtRunner().invoke(command)
    if result.success:
        return result.result
    if result.exception is not None:
        raise DbtFailed(f"dbt {args[0]}: {str(result.exception).strip().splitlines()[0]}")
    failures = []
    for node in getattr(result.result, "results", None) or []:
        if str(node.status) in ("error", "fail"):
            message = (node.message or "").strip().splitlines()
            failures.append(f"{node.node.name}: {message[0] if message else node.status}")
    raise DbtFailed(f"dbt {args[0]} failed: " + ("; ".join(failures[:3]) or "see the dbt log"))
