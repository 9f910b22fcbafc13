"""The scale-out path on one machine: Airflow's CeleryExecutor as plain local processes.

One process with SQLite metadata is the default; teams outgrow it. Airflow's own answer is
the CeleryExecutor with a PostgreSQL metadata database and a Redis broker. This module starts
exactly that topology (the one docker-compose.yml runs in containers): a scheduler, a DAG
processor, an API server (the workers' task runners report to its execution API) and N celery
workers, each in its own process group. The scheduler then runs the nightly as it would at
02:00 Asia/Shanghai: the three ingest DAGs on their cron timetable (the latest slot, as
``catchup=False`` promises), ``build_warehouse`` on their Assets. ``stop()`` ends every process
it started by its own pid (its group), and removes the cluster's broker queue.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import psycopg
from psycopg import sql

from sco_green.airflow_processes import AirflowProcesses, ProcessesFailed
from sco_green.dbt_runner import dbt_env, ensure_manifest
from sco_green.nightly import BUILD_DAGS, INGEST_DAGS, NIGHTLY_ORDER, OFFLINE_ENV
from sco_green.paths import dags_dir

WORKER_NAME_ENV = "SCO_GREEN_WORKER_NAME"


class ClusterFailed(RuntimeError):
    """The cluster did not start, or the nightly did not finish in time."""


def worker_hostname() -> str:
    """``core.hostname_callable`` for the workers: ``worker-N@host``, so each task instance
    records which worker ran it even when all workers share one machine."""
    host = socket.getfqdn()
    name = os.environ.get(WORKER_NAME_ENV)
    return f"{name}@{host}" if name else host


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _driver_url(url: str, driver: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"{scheme.split('+', 1)[0]}+{driver}://{rest}"


def recreate_database(url: str) -> None:
    """Drop and create the database ``url`` names (a scratch metadata database)."""
    base, _, query = url.partition("?")
    server, dbname = base.rsplit("/", 1)
    admin = f"{server}/postgres" + (f"?{query}" if query else "")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))


@dataclass
class ClusterSettings:
    metadata_url: str  # postgresql://... a database of its own for Airflow's metadata
    broker_url: str  # redis://host:port/db
    warehouse_url: str
    inbox: Path
    home: Path  # AIRFLOW_HOME, the cluster's var dir and its process logs
    workers: int = 2
    concurrency: int = 2


@dataclass
class TaskRecord:
    dag_id: str
    run_id: str
    task_id: str
    state: str | None
    hostname: str | None


@dataclass
class NightlyResult:
    logical_date: datetime | None
    runs: dict[str, str]  # dag_id -> state of its run
    tasks: list[TaskRecord] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def hosts(self) -> set[str]:
        return {t.hostname for t in self.tasks if t.hostname}

    @property
    def succeeded(self) -> bool:
        return all(s == "success" for s in self.runs.values()) and all(t.state == "success" for t in self.tasks)


class LocalCeleryCluster:
    """Scheduler, DAG processor, API server and celery workers over one metadata database."""

    def __init__(self, settings: ClusterSettings) -> None:
        self.settings = settings
        self.token = secrets.token_hex(4)
        self.queue = f"sco_green_{self.token}"  # this cluster's own queue on a shared broker
        self.port = _free_port()
        self.logs = settings.home / "logs" / "processes"
        self.airflow = AirflowProcesses(self.logs, self.port)

    # ------------------------------------------------------------------ environment
    def environment(self, worker: str | None = None) -> dict[str, str]:
        s = self.settings
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        env.update(dbt_env(s.warehouse_url))
        meta = _driver_url(s.metadata_url, "psycopg")
        env.update(
            {
                "AIRFLOW_HOME": str(s.home / "airflow"),
                "SCO_GREEN_VAR": str(s.home),
                "WAREHOUSE_URL": s.warehouse_url,
                "SCO_GREEN_INBOX": str(s.inbox.resolve()),
                "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
                "AIRFLOW__CORE__DAGS_FOLDER": str(dags_dir()),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
                "AIRFLOW__CORE__DEFAULT_TIMEZONE": "utc",
                "AIRFLOW__CORE__HOSTNAME_CALLABLE": f"{__name__}.worker_hostname",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.port}/execution/",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": meta,
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": meta,
                "AIRFLOW__CELERY__BROKER_URL": s.broker_url,
                "AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS": "sco_green.celery_config.CELERY_CONFIG",
                "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + meta,
                "AIRFLOW__OPERATORS__DEFAULT_QUEUE": self.queue,
                "AIRFLOW__API__PORT": str(self.port),
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API_AUTH__JWT_SECRET": self.token + secrets.token_hex(16),
                "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(s.home / "airflow" / "logs"),
                "AIRFLOW__COSMOS__CACHE_DIR": str(s.home / "cosmos"),
                "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                **OFFLINE_ENV,
            }
        )
        if worker:
            env[WORKER_NAME_ENV] = worker
        return env

    # ------------------------------------------------------------------ processes
    def _airflow(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        return self.airflow.spawn(name, args, env)

    @property
    def processes(self) -> dict[str, subprocess.Popen[bytes]]:
        return self.airflow.processes

    def migrate(self) -> None:
        recreate_database(self.settings.metadata_url)
        self.settings.home.mkdir(parents=True, exist_ok=True)
        try:
            self.airflow.run_once("db-migrate", ["db", "migrate"], self.environment())
        except ProcessesFailed as exc:
            raise ClusterFailed(str(exc)) from exc

    def start(self) -> None:
        ensure_manifest()  # Cosmos renders build_warehouse from the precomputed manifest
        self.migrate()
        env = self.environment()
        self._airflow("api-server", ["api-server", "--port", str(self.port), "--host", "127.0.0.1"], env)
        self._airflow("dag-processor", ["dag-processor"], env)
        for n in range(1, self.settings.workers + 1):
            name = f"worker-{n}"
            self._airflow(
                name,
                [
                    "celery", "worker",
                    "--celery-hostname", f"{name}-{self.token}@%h",
                    "--queues", self.queue,
                    "--concurrency", str(self.settings.concurrency),
                    "--skip-serve-logs",
                ],
                self.environment(worker=name),
            )  # fmt: skip
        self._wait_for_api()
        self._wait_for_workers()
        self._wait_for_dags()
        # The scheduler starts last, when every DAG is parsed: its first loop sees the whole nightly.
        self._airflow("scheduler", ["scheduler"], env)

    def _check_alive(self) -> None:
        try:
            self.airflow.check_alive()
        except ProcessesFailed as exc:
            raise ClusterFailed(str(exc)) from exc

    def _wait_for_api(self, timeout: float = 180) -> None:
        try:
            self.airflow.wait_for_health(timeout=timeout)
        except ProcessesFailed as exc:
            raise ClusterFailed(str(exc)) from exc

    def _wait_for_workers(self, timeout: float = 180) -> None:
        """Each worker logs ``<name>@host ready.`` once it consumes the queue."""
        deadline = time.monotonic() + timeout
        names = [f"worker-{n}" for n in range(1, self.settings.workers + 1)]
        while time.monotonic() < deadline:
            self._check_alive()
            waiting = [n for n in names if " ready." not in (self.logs / f"{n}.log").read_text(errors="replace")]
            if not waiting:
                return
            time.sleep(1)
        raise ClusterFailed(f"celery workers not ready after {timeout:.0f}s: {', '.join(waiting)}")

    def _wait_for_dags(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        wanted = set(NIGHTLY_ORDER)
        while time.monotonic() < deadline:
            self._check_alive()
            with self._metadata() as conn:
                found = {
                    r[0]
                    for r in conn.execute(
                        "SELECT d.dag_id FROM dag d JOIN serialized_dag s USING (dag_id) WHERE NOT d.is_paused"
                    )
                }
            if wanted <= found:
                return
            time.sleep(2)
        raise ClusterFailed(f"DAGs not parsed after {timeout:.0f}s; see {self.logs / 'dag-processor.log'}")

    def stop(self, grace: float = 30) -> None:
        """Every process group ends (SIGTERM, then SIGKILL after ``grace``); the broker queue goes."""
        self.airflow.stop(grace)
        self._drop_queue()

    def _drop_queue(self) -> None:
        try:
            import redis

            client = redis.Redis.from_url(self.settings.broker_url)
            keys = list(client.scan_iter(match=f"*{self.queue}*"))
            if keys:
                client.delete(*keys)
            client.close()
        except Exception:  # noqa: BLE001 - best effort: an unreachable broker holds nothing of ours
            pass

    def __enter__(self) -> LocalCeleryCluster:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ metadata
    @contextmanager
    def _metadata(self) -> Iterator[psycopg.Connection]:
        with psycopg.connect(self.settings.metadata_url, autocommit=True) as conn:
            yield conn

    def nightly_state(self) -> NightlyResult:
        with self._metadata() as conn:
            runs = conn.execute(
                "SELECT DISTINCT ON (dag_id) dag_id, state, logical_date FROM dag_run"
                " WHERE dag_id = ANY(%s) ORDER BY dag_id, id DESC",
                (list(NIGHTLY_ORDER),),
            ).fetchall()
            tasks = conn.execute(
                "SELECT dag_id, run_id, task_id, state, hostname FROM task_instance"
                " WHERE dag_id = ANY(%s) ORDER BY dag_id, task_id",
                (list(NIGHTLY_ORDER),),
            ).fetchall()
        logical = next((r[2] for r in runs if r[0] in INGEST_DAGS and r[2] is not None), None)
        return NightlyResult(
            logical_date=logical,
            runs={r[0]: r[1] for r in runs},
            tasks=[TaskRecord(*t) for t in tasks],
        )

    def wait_for_nightly(self, timeout: float = 1800, echo=lambda _: None) -> NightlyResult:
        """Wait until the scheduler's ingest runs and the Asset-triggered build have finished."""
        started = time.monotonic()
        deadline = started + timeout
        terminal = {"success", "failed"}
        seen: dict[str, str] = {}
        while time.monotonic() < deadline:
            self._check_alive()
            state = self.nightly_state()
            for dag_id, run_state in state.runs.items():
                if seen.get(dag_id) != run_state:
                    echo(f"  {dag_id:<20} {run_state:<8} {time.monotonic() - started:6.1f}s")
                    seen[dag_id] = run_state
            ingest_done = all(state.runs.get(d) in terminal for d in INGEST_DAGS)
            # A failed feed sends no Asset event, so the build, which waits on all three, never starts.
            ingest_failed = any(state.runs.get(d) == "failed" for d in INGEST_DAGS)
            build_done = all(state.runs.get(d) in terminal for d in BUILD_DAGS)
            if ingest_done and (ingest_failed or build_done):
                state.seconds = time.monotonic() - started
                return state
            time.sleep(2)
        raise ClusterFailed(f"nightly not finished after {timeout:.0f}s; runs: {self.nightly_state().runs}")


def run_nightly_on_celery(settings: ClusterSettings, echo=print) -> NightlyResult:
    """Start the cluster, let its scheduler run one nightly, stop every process."""
    if settings.home.exists():
        shutil.rmtree(settings.home)
    with LocalCeleryCluster(settings) as cluster:
        echo(f"cluster up: {settings.workers} celery workers, api-server on 127.0.0.1:{cluster.port}")
        result = cluster.wait_for_nightly(echo=echo)
    return result
