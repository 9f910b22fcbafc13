"""What a night costs when there is nothing to load: ``sco-green nightly`` on an empty inbox.

The warehouse is a fresh database; a first night (Airflow metadata, first build) warms it up,
then the measured night runs in its own process, as a scheduler would start it. The wall time
is split with the night's own log and the server's statistics:

- Airflow: everything outside the tasks' own work (interpreter and imports, metadata database,
  DAG runs, the gaps between tasks, and each task's start until Airflow reports it started);
- ingest tasks: the three ingest DAGs' tasks (ledger decisions on an empty inbox);
- dbt start-up: dbt's import at the start of the build (the night's "dbt loaded" line) and
  dbt tasks' time not spent running nodes (manifest and partial parse, adapter connection),
  from dbt's own "Finished running ... (N s)" lines;
- dbt nodes: dbt's node execution time, seeds and tests included;
- other tasks: profile, publish, docs and report tasks;
- warehouse: time PostgreSQL spent executing the night's statements (pg_stat_database
  active_time of the warehouse database; it overlaps the task times above).
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

import psycopg

from sco_green.nightly import DBT_LOADED_LINE

TARGET_SECONDS = 30.0
INGEST_TASKS = ("land_files", "validate_files", "publish_files", "update_data_docs")
_STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\S+Z) ")
_TASK = re.compile(r"\[DAG TEST\] (starting|end task) task_id=(\S+)")
_TASK_STARTED = "Task started"
_DBT_RUN = re.compile(r"Finished running .* \((\d+(?:\.\d+)?)s\)")
_DBT_LOADED = re.compile(re.escape(DBT_LOADED_LINE) + r" in (\d+(?:\.\d+)?) s")
DBT_IMPORT = "dbt_import"  # not a task: the build's import of dbt before its first task


def task_durations(log_text: str) -> tuple[dict[str, float], float, float]:
    """From a night's log: seconds per task (summed over DAGs for repeated task ids) counted from
    the moment Airflow reports the task started, plus the build's import of dbt before its first
    task under ``DBT_IMPORT``; Airflow's own time before each task started (task instance
    bookkeeping; the first task of a process also starts the in-process execution API); and
    dbt's node time."""
    started: dict[str, datetime] = {}
    running: dict[str, datetime] = {}
    tasks: dict[str, float] = {}
    airflow = dbt_nodes = 0.0
    current: str | None = None
    for line in log_text.splitlines():
        found = _DBT_RUN.search(line)
        if found:
            dbt_nodes += float(found.group(1))
        loaded = _DBT_LOADED.search(line)
        if loaded:
            tasks[DBT_IMPORT] = tasks.get(DBT_IMPORT, 0.0) + float(loaded.group(1))
        stamp = _STAMP.match(line)
        if not stamp:
            continue
        at = datetime.fromisoformat(stamp.group(1).replace("Z", "+00:00"))
        task = _TASK.search(line)
        if task is None:
            if current is not None and current not in running and _TASK_STARTED in line:
                running[current] = at
                airflow += (at - started[current]).total_seconds()
            continue
        kind, task_id = task.groups()
        if kind == "starting":
            started[task_id], current = at, task_id
        elif task_id in started:
            begun = running.pop(task_id, started[task_id])
            started.pop(task_id)
            tasks[task_id] = tasks.get(task_id, 0.0) + (at - begun).total_seconds()
            current = None
    return tasks, airflow, dbt_nodes


def split(wall: float, tasks: dict[str, float], dbt_nodes: float, warehouse: float) -> dict[str, float]:
    ingest = sum(s for t, s in tasks.items() if t in INGEST_TASKS)
    dbt = sum(s for t, s in tasks.items() if t in ("seeds_and_views", DBT_IMPORT) or t.startswith("dbt."))
    other = sum(tasks.values()) - ingest - dbt
    return {
        "wall": wall,
        "airflow": wall - sum(tasks.values()),
        "ingest_tasks": ingest,
        "dbt_startup": dbt - dbt_nodes,
        "dbt_nodes": dbt_nodes,
        "other_tasks": other,
        "warehouse": warehouse,
    }


def _active_ms(server: str, dbname: str) -> float:
    with psycopg.connect(server, autocommit=True) as conn:
        return conn.execute("SELECT active_time FROM pg_stat_database WHERE datname = %s", (dbname,)).fetchone()[0]


def _night(url: str, inbox: Path, logical: date) -> tuple[float, Path]:
    env = {**os.environ, "WAREHOUSE_URL": url}
    started = time.perf_counter()
    done = subprocess.run(
        [str(Path(".venv/bin/sco-green")), "nightly", "--inbox", str(inbox), "--logical-date", logical.isoformat()],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - started
    logs = sorted(Path("var/logs").glob(f"nightly-{logical.isoformat()}-*.log"), key=lambda p: p.stat().st_mtime)
    if not logs:
        raise RuntimeError(f"no log for the night {logical}: {done.stdout[-500:]}")
    return wall, logs[-1]


def overhead(server: str) -> dict[str, object]:
    dbname = f"sco_bench_overhead_{os.getpid()}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{dbname}"')
    url = server.rsplit("/", 1)[0] + "/" + dbname
    try:
        with tempfile.TemporaryDirectory() as inbox:
            _night(url, Path(inbox), date(2026, 1, 1))
            time.sleep(1.5)  # let the first night's sessions flush their statistics
            before = _active_ms(server, dbname)
            wall, log = _night(url, Path(inbox), date(2026, 1, 2))
            time.sleep(1.5)
            warehouse = (_active_ms(server, dbname) - before) / 1000
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
    tasks, airflow_in_tasks, dbt_nodes = task_durations(log.read_text(encoding="utf-8", errors="replace"))
    parts = split(wall, tasks, dbt_nodes, warehouse)
    return {"target_seconds": TARGET_SECONDS, "split": parts, "airflow_inside_tasks": airflow_in_tasks, "tasks": tasks}


LABELS = {
    "wall": "wall (sco-green nightly, empty inbox)",
    "airflow": "  Airflow: process, metadata DB, DAG runs",
    "ingest_tasks": "  ingest tasks (3 DAGs x 4)",
    "dbt_startup": "  dbt start-up: import, manifest, parse",
    "dbt_nodes": "  dbt nodes: seeds, models, tests",
    "other_tasks": "  profile, publish, docs, report tasks",
    "warehouse": "warehouse SQL time (overlaps the above)",
}


def report(result: dict[str, object]) -> str:
    parts = result["split"]
    lines = [f"{LABELS[k]:<44}{parts[k]:>8.1f} s" for k in LABELS]
    verdict = "meets" if parts["wall"] <= TARGET_SECONDS else "misses"
    lines.append(f"\ntarget: wall <= {TARGET_SECONDS:.0f} s: {verdict} it ({parts['wall'] / TARGET_SECONDS:.2f}x)")
    return "\n".join(lines)
