"""One nightly cycle: the project's real DAGs, run in-process with ``dag.test()``.

The order is the scheduler's: the three ingest DAGs (their cron fires together; each
writes its own raw table), then ``build_warehouse``, which the scheduler starts once
the ingest DAGs have updated its Assets. Airflow's own output goes to a log file under
``var/logs``; the terminal gets one line per DAG.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sco_green.paths import dags_dir, var_dir

INGEST_DAGS = ("ingest_members", "ingest_trade", "ingest_recycling")
BUILD_DAGS = ("build_warehouse",)
NIGHTLY_ORDER = INGEST_DAGS + BUILD_DAGS
# What the build's first dbt task would import.
DBT_MODULES = ("dbt.cli.main", "dbt.adapters.postgres", "dbt.task.build")
DBT_LOADED_LINE = "sco-green: dbt loaded for the build"


# No telemetry: the pipeline runs offline and must not wait on outside hosts.
OFFLINE_ENV = {
    "GX_ANALYTICS_ENABLED": "False",
    "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
    "AIRFLOW__USAGE_DATA_COLLECTION__ENABLED": "False",
    "DO_NOT_TRACK": "1",
    "SCARF_ANALYTICS": "false",
}


class CycleFailed(RuntimeError):
    """A DAG of the cycle did not succeed."""


@dataclass
class DagOutcome:
    dag_id: str
    state: str
    seconds: float

    def line(self) -> str:
        """What the night prints for the DAG run (the benchmarks read it)."""
        return f"  {self.dag_id:<20} {self.state:<8} {self.seconds:6.1f}s"


def configure_airflow(var: Path | None = None) -> Path:
    """Point Airflow at a project-local home with SQLite metadata; migrate it once per version."""
    var = var or var_dir()
    home = var / "airflow"
    home.mkdir(parents=True, exist_ok=True)
    os.environ["AIRFLOW_HOME"] = str(home)
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(dags_dir())
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    os.environ.setdefault("AIRFLOW__CORE__EXECUTOR", "LocalExecutor")
    os.environ.setdefault("AIRFLOW__CORE__DEFAULT_TIMEZONE", "utc")
    os.environ.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{home / 'airflow.db'}")
    os.environ.setdefault("AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION", "False")
    os.environ.setdefault("AIRFLOW__LOGGING__BASE_LOG_FOLDER", str(home / "logs"))
    # Cosmos keeps dbt's partial-parse file between tasks; dbt discards it when the profile
    # differs, so two checkouts or warehouses sharing the default /tmp/cosmos would make every
    # dbt task parse the whole project again (about a second each instead of a fifth).
    os.environ.setdefault("AIRFLOW__COSMOS__CACHE_DIR", str(var / "cosmos"))
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(var))
    from importlib.metadata import version

    marker = home / ".migrated"
    wanted = version("apache-airflow")
    if not marker.exists() or marker.read_text().strip() != wanted:
        log = var / "logs" / "airflow-db-migrate.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "w") as handle:
            done = subprocess.run(
                [sys.executable, "-m", "airflow", "db", "migrate"], stdout=handle, stderr=subprocess.STDOUT
            )
        if done.returncode != 0:
            raise CycleFailed(f"airflow db migrate failed; see {log}")
        marker.write_text(wanted)
    return home


# Python-level writers on the process's own fds 1 and 2. While a cycle runs those fds point
# at the log file; afterwards at the terminal again. Loggers that bind to sys.stdout during
# the cycle keep a valid stream for the life of the process.
_FD_STDOUT = open(1, "w", encoding="utf-8", errors="replace", closefd=False, buffering=1)  # noqa: SIM115
_FD_STDERR = open(2, "w", encoding="utf-8", errors="replace", closefd=False, buffering=1)  # noqa: SIM115


@contextlib.contextmanager
def output_to(log_path: Path) -> Iterator[None]:
    """Send everything written to stdout and stderr (Airflow, dbt, GX) to a log file."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(log_path, "ab") as handle:
        os.dup2(handle.fileno(), 1)
        os.dup2(handle.fileno(), 2)
        os.environ["SCO_GREEN_PROGRESS_FD"] = str(saved[1])  # progress still reaches the terminal
        try:
            with contextlib.redirect_stdout(_FD_STDOUT), contextlib.redirect_stderr(_FD_STDERR):
                yield
        finally:
            os.environ.pop("SCO_GREEN_PROGRESS_FD", None)
            _FD_STDOUT.flush()
            _FD_STDERR.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def _import_dbt(modules: tuple[str, ...]) -> float:
    """Import dbt before the build's first task, so the night's log times it apart from the
    tasks; returns the seconds it took."""
    started = time.monotonic()
    for module in modules:
        importlib.import_module(module)
    return time.monotonic() - started


def load_dags(dag_ids: tuple[str, ...] = NIGHTLY_ORDER) -> dict[str, object]:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(dags_dir()))
    if bag.import_errors:
        first = next(iter(bag.import_errors.items()))
        raise CycleFailed(f"DAG import error in {first[0]}: {str(first[1]).strip().splitlines()[-1]}")
    missing = [d for d in dag_ids if d not in bag.dags]
    if missing:
        raise CycleFailed("DAGs not found: " + ", ".join(missing))
    return {d: bag.dags[d] for d in dag_ids}


def run_cycle(
    inbox: Path,
    logical: date,
    *,
    echo=print,
    dag_ids: tuple[str, ...] = NIGHTLY_ORDER,
    full_refresh: bool = False,
) -> list[DagOutcome]:
    """Run the nightly DAGs for ``logical`` over ``inbox``; raise CycleFailed on the first failure.

    ``full_refresh``: the build rebuilds every seed and incremental table from scratch (the
    build DAG's ``full_refresh`` param).
    """
    var = var_dir()
    configure_airflow(var)
    import pendulum

    # Imports Airflow (its alerts are notifiers), which reads its configuration once: only now.
    from sco_green.dag_support import CAUSE_FILE_ENV, PIPELINE_TZ

    logs = var / "logs"
    stamp = time.strftime("%Y%m%dT%H%M%S")
    log_path = logs / f"nightly-{logical.isoformat()}-{stamp}.log"
    cause_file = logs / f".cause-{os.getpid()}"
    cause_file.unlink(missing_ok=True)
    os.environ[CAUSE_FILE_ENV] = str(cause_file)
    os.environ["SCO_GREEN_INBOX"] = str(inbox.resolve())
    when = pendulum.datetime(logical.year, logical.month, logical.day, 2, tz=PIPELINE_TZ)
    outcomes = []
    with output_to(log_path):
        from sco_green.dbt_runner import apply_dbt_env, ensure_manifest

        apply_dbt_env()
        ensure_manifest()
        dags = load_dags(dag_ids)
    for dag_id in dag_ids:
        started = time.monotonic()
        with output_to(log_path):
            conf: dict[str, object] = {"inbox": str(inbox.resolve())}
            if dag_id in BUILD_DAGS:
                conf["full_refresh"] = full_refresh
                # In the night's log for the overhead bench: dbt's start-up, not Airflow's.
                print(f"{DBT_LOADED_LINE} in {_import_dbt(DBT_MODULES):.2f} s", flush=True)
            run = dags[dag_id].test(logical_date=when, run_conf=conf)
        state = str(getattr(run, "state", "failed"))
        outcome = DagOutcome(dag_id, state, time.monotonic() - started)
        outcomes.append(outcome)
        echo(outcome.line())
        if state != "success":
            cause = cause_file.read_text().strip() if cause_file.exists() else "a task failed"
            raise CycleFailed(f"{dag_id} {state}: {cause} (log: {log_path})")
    return outcomes
