"""What the DAG files share: schedules, default arguments, run context helpers.

DAG files stay thin; anything that touches the warehouse happens inside tasks, never
at import time (the DAG processor parses these files every few seconds).
"""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pendulum

from sco_green.alerts import TaskFailedNotifier

PIPELINE_TZ = "Asia/Shanghai"
START_DATE = pendulum.datetime(2025, 9, 1, tz=PIPELINE_TZ)
OWNER = "sco-green-data"
CAUSE_FILE_ENV = "SCO_GREEN_CAUSE_FILE"


def record_failure_cause(context: dict[str, Any]) -> None:
    """on_failure_callback: leave the failing task's one-line cause where the CLI reads it."""
    target = os.environ.get(CAUSE_FILE_ENV)
    if not target:
        return
    from sco_green.warehouse import one_line

    exc = context.get("exception")
    ti = context.get("task_instance") or context.get("ti")
    text = one_line(exc) if exc else "failed"
    Path(target).write_text(f"{getattr(ti, 'task_id', 'task')}: {text}\n", encoding="utf-8")


DEFAULT_ARGS: dict[str, Any] = {
    "owner": OWNER,
    "retries": 2,
    "retry_delay": timedelta(seconds=5),
    # The CLI's one-line cause, and the configured alerts (sco_green.alerts).
    "on_failure_callback": [record_failure_cause, TaskFailedNotifier()],
}


def logical_day(context: dict[str, Any]) -> date:
    """The cycle's date in the pipeline's time zone (the nightly run at 02:00 Shanghai)."""
    logical = context.get("logical_date") or context.get("dag_run").run_after
    return pendulum.instance(logical).in_timezone(PIPELINE_TZ).date()


def inbox_from(context: dict[str, Any]) -> Path:
    params = context.get("params") or {}
    conf = getattr(context.get("dag_run"), "conf", None) or {}
    inbox = conf.get("inbox") or params.get("inbox") or os.environ.get("SCO_GREEN_INBOX")
    if not inbox:
        raise ValueError("no inbox: pass conf {'inbox': DIR} or set SCO_GREEN_INBOX")
    path = Path(inbox)
    if not path.is_dir():
        raise FileNotFoundError(f"inbox {path} is not a directory")
    return path
