"""Run dbt against the warehouse, with the profile's credentials taken from WAREHOUSE_URL."""

from __future__ import annotations

import os
from collections.abc import Sequence

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
    }


def apply_dbt_env(url: str | None = None) -> None:
    os.environ.update(dbt_env(url))


def run_dbt(args: Sequence[str], url: str | None = None) -> None:
    """Invoke dbt in-process; raise DbtFailed with the first failing node's message."""
    from dbt.cli.main import dbtRunner

    apply_dbt_env(url)
    project = str(dbt_project_dir())
    result = dbtRunner().invoke([*args, "--project-dir", project, "--profiles-dir", project])
    if result.success:
        return
    if result.exception is not None:
        raise DbtFailed(f"dbt {args[0]}: {str(result.exception).strip().splitlines()[0]}")
    failures = []
    for node in getattr(result.result, "results", None) or []:
        if str(node.status) in ("error", "fail"):
            message = (node.message or "").strip().splitlines()
            failures.append(f"{node.node.name}: {message[0] if message else node.status}")
    raise DbtFailed(f"dbt {args[0]} failed: " + ("; ".join(failures[:3]) or "see the dbt log"))
