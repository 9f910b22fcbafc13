"""Run dbt against the warehouse, with the profile's credentials taken from WAREHOUSE_URL."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from importlib import metadata
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
        # high, which is every query over the large tables, and compiling takes longer than a
        # night's incremental statements run.
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


def write_docs(target: Path) -> Path:
    """dbt's documentation site (static, one file) under ``target``; kept as it is when the one
    there was generated from the same project and the same catalog.

    Parsed, not compiled: compiling every node runs the incremental models' introspective
    queries against the published marts again, several times the parse's cost, for compiled
    SQL that shows only one night's constants. ``docs generate --no-compile``
    embeds the manifest.json of its target path, which the parse writes. What the site shows
    comes from the project's files and, through the catalog, from the warehouse's tables,
    columns, types, owners and comments (PostgreSQL's catalog has no row counts), so most
    nights the site would come out the same: a digest of both (``docs_inputs_digest``), kept
    beside the site, decides.
    """
    site = target / "static_index.html"
    stamp = target / "inputs_digest"
    digest = docs_inputs_digest()
    if site.exists() and stamp.exists() and stamp.read_text(encoding="utf-8") == digest:
        return site
    stamp.unlink(missing_ok=True)
    run_dbt(["parse", "--quiet", "--target-path", str(target)])
    run_dbt(["docs", "generate", "--static", "--no-compile", "--target-path", str(target)])
    stamp.write_text(digest, encoding="utf-8")
    return site


def project_digest(project: Path) -> str:
    """Every file dbt builds from (not its target/ and logs/) with its path, and the versions of
    dbt and its adapter (whose macros write the SQL)."""
    digest = hashlib.sha256()
    files = [p for p in project.rglob("*") if p.is_file() and p.relative_to(project).parts[0] not in ("target", "logs")]
    for path in sorted(files):
        digest.update(path.relative_to(project).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    for package in ("dbt-core", "dbt-adapters", "dbt-postgres"):
        digest.update(f"{package}=={metadata.version(package)}\0".encode())
    return digest.hexdigest()


def docs_inputs_digest(url: str | None = None) -> str:
    """The project's files and dbt's version, the database's name, and every relation with its
    columns in the schemas the manifest's models, seeds and sources live in (the catalog's rows)."""
    from sco_green.marts_publish import BUILD, PUBLISHED
    from sco_green.warehouse import connect

    project = dbt_project_dir()
    manifest = json.loads((project / "target" / "manifest.json").read_text(encoding="utf-8"))
    built = ("model", "seed", "snapshot")
    schemas = sorted(
        # The precomputed manifest may come from a run that built the marts into marts_build; the
        # docs describe the published ones.
        {
            PUBLISHED if node["schema"] == BUILD else node["schema"]
            for node in manifest["nodes"].values()
            if node["resource_type"] in built
        }
        | {source["schema"] for source in manifest["sources"].values()}
    )
    with connect(url) as conn:
        database, catalog = conn.execute(
            "SELECT current_database(), md5(string_agg(concat_ws('|', n.nspname, c.relname, c.relkind,"
            " pg_get_userbyid(c.relowner), obj_description(c.oid, 'pg_class'), a.attnum, a.attname,"
            " format_type(a.atttypid, a.atttypmod), col_description(c.oid, a.attnum)), ','"
            " ORDER BY n.nspname, c.relname, a.attnum))"
            " FROM pg_class AS c"
            " JOIN pg_namespace AS n ON n.oid = c.relnamespace"
            " JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped"
            " WHERE n.nspname = ANY(%s) AND c.relkind IN ('r', 'v', 'm', 'p', 'f')",
            (schemas,),
        ).fetchone()
    return "\n".join([project_digest(project), database, catalog or ""])
