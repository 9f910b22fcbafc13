"""One cycle at a time on a warehouse: a session-level advisory lock that the database holds.

``sco-green nightly`` (and ``demo``) hold it from before the first file is looked at until
the report is written; under Airflow's scheduler every task that touches the warehouse holds
it for its own run (a task's process cannot keep a connection across tasks), and what a task
decides is re-checked under it: ``publish`` decides each file against the ledger again, and
``publish_marts`` refuses to swap when another cycle published marts since the build began.

The lock belongs to a connection, so a holder that crashes or is killed never leaves it
behind: the server releases it when the connection goes. The holder names itself in its
connection's ``application_name`` (what, host, pid) and the connection stays idle after the
lock query, so ``query_start`` is the moment it took the lock: that is what a cycle that finds
the lock taken reports.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg

from sco_green.warehouse import connect

log = logging.getLogger(__name__)

# Advisory locks are per database, so each warehouse has its own cycle lock.
CYCLE_LOCK = 7_322_010
# Set by a process that holds the lock, so its own in-process tasks (``dag.test()``) run under it.
HELD_ENV = "SCO_GREEN_CYCLE_LOCK_PID"
APP_PREFIX = "sco-green "
# A scheduled task waits this long for a hand-started cycle before it fails (and is retried).
TASK_WAIT_SECONDS = 6 * 3600


class CycleBusy(RuntimeError):
    """Another cycle holds the warehouse."""


@dataclass(frozen=True)
class Holder:
    name: str  # what holds it, host and pid, as the holder wrote it
    since: str  # when it took the lock (the server's clock)

    def __str__(self) -> str:
        return f"{self.name}, since {self.since}"


def holder_name(what: str) -> str:
    """application_name of a lock holder: the server keeps 63 bytes, so what and host are cut to fit."""
    tail = f" pid={os.getpid()}"
    head = f"{APP_PREFIX}{what[:28]} host="
    room = 63 - len(head.encode()) - len(tail)
    host = socket.gethostname().encode()[: max(room, 0)].decode(errors="ignore")
    return f"{head}{host}{tail}"


def current_holder(conn: psycopg.Connection) -> Holder | None:
    """Who holds the cycle lock on this connection's database, or None."""
    row = conn.execute(
        "SELECT a.application_name, to_char(a.query_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC'"
        " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
        " WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = %s AND l.objsubid = 1"
        " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        (CYCLE_LOCK,),
    ).fetchone()
    if row is None:
        return None
    return Holder(row[0] or "an unnamed session (its role cannot be seen by this one)", row[1] or "unknown")


def _try(conn: psycopg.Connection) -> bool:
    return bool(conn.execute("SELECT pg_try_advisory_lock(%s)", (CYCLE_LOCK,)).fetchone()[0])


def held_here() -> bool:
    return os.environ.get(HELD_ENV) == str(os.getpid())


@contextlib.contextmanager
def cycle_lock(url: str, what: str, *, wait: float = 0.0, poll: float = 1.0) -> Iterator[None]:
    """Hold the warehouse's cycle lock for the block; raise CycleBusy after ``wait`` seconds.

    Re-entrant within a process: a block inside another one of the same process runs under
    the outer lock.
    """
    if held_here():
        yield
        return
    conn = connect(url, autocommit=True)
    try:
        conn.execute("SELECT set_config('application_name', %s, false)", (holder_name(what),))
        deadline = time.monotonic() + wait
        told = 0.0
        while not _try(conn):
            holder = current_holder(conn)
            if time.monotonic() >= deadline:
                raise CycleBusy(f"another cycle holds the warehouse: {holder or 'a session that just let go'}")
            if time.monotonic() - told > 60:
                log.warning("waiting for the warehouse: another cycle holds it (%s)", holder)
                told = time.monotonic()
            time.sleep(poll)
        os.environ[HELD_ENV] = str(os.getpid())
        try:
            yield
        finally:
            os.environ.pop(HELD_ENV, None)
            with contextlib.suppress(psycopg.Error):
                conn.execute("SELECT pg_advisory_unlock(%s)", (CYCLE_LOCK,))
    finally:
        conn.close()


@contextlib.contextmanager
def task_lock(what: str) -> Iterator[None]:
    """An Airflow task's hold on the cycle lock: it waits for a hand-started cycle to finish."""
    from sco_green.warehouse import warehouse_url

    with cycle_lock(warehouse_url(), what, wait=TASK_WAIT_SECONDS):
        yield


# Cosmos operators run dbt inside ``execute``; their documented ``pre_execute`` and
# ``post_execute`` hooks take and release the lock around it. A task that fails skips
# ``post_execute``, and its process ends, which closes the connection and frees the lock.
_task_locks: dict[str, contextlib.ExitStack] = {}


def acquire_for_task(context: dict) -> None:
    """``pre_execute``: wait for the cycle lock unless this process already holds it."""
    if held_here():
        return
    from sco_green.warehouse import warehouse_url

    ti = context.get("task_instance") or context.get("ti")
    key = f"{getattr(ti, 'dag_id', '?')}.{getattr(ti, 'task_id', '?')}"
    stack = contextlib.ExitStack()
    stack.enter_context(cycle_lock(warehouse_url(), key.split(".", 1)[-1], wait=TASK_WAIT_SECONDS))
    _task_locks[key] = stack


def release_for_task(context: dict, result: object = None) -> None:
    """``post_execute``: release what ``acquire_for_task`` took."""
    ti = context.get("task_instance") or context.get("ti")
    key = f"{getattr(ti, 'dag_id', '?')}.{getattr(ti, 'task_id', '?')}"
    stack = _task_locks.pop(key, None)
    if stack is not None:
        stack.close()
