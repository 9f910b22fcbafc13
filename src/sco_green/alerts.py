"""Alerts: a failed task, and a finished night, by e-mail and/or a webhook (Airflow 3 notifiers).

Settings come from the environment and are read when an alert is sent, so a change applies to
the next alert without re-parsing the DAGs; with none set, nothing is sent.

* e-mail: ``SCO_GREEN_ALERT_EMAIL_TO`` (comma-separated), ``SCO_GREEN_SMTP_HOST``,
  ``SCO_GREEN_SMTP_PORT`` (25), ``SCO_GREEN_SMTP_USER`` and ``SCO_GREEN_SMTP_PASSWORD`` (optional),
  ``SCO_GREEN_SMTP_STARTTLS`` (``true`` to upgrade the connection), ``SCO_GREEN_SMTP_FROM``;
* webhook: ``SCO_GREEN_ALERT_WEBHOOK_URL``, which receives a JSON POST.

A failing alert channel is logged and never fails the task or the night it reports on.
"""

from __future__ import annotations

import json
import logging
import os
import smtplib
import socket
import urllib.request
from dataclasses import asdict, dataclass
from email.message import EmailMessage
from typing import Any

from airflow.sdk import BaseNotifier

log = logging.getLogger(__name__)


@dataclass
class Alert:
    kind: str  # task_failed | night_finished
    subject: str
    text: str
    details: dict[str, Any]


def send_email(alert: Alert) -> bool:
    """Send the alert by SMTP when e-mail is configured; True when it was sent."""
    to = [a.strip() for a in os.environ.get("SCO_GREEN_ALERT_EMAIL_TO", "").split(",") if a.strip()]
    host = os.environ.get("SCO_GREEN_SMTP_HOST")
    if not (to and host):
        return False
    message = EmailMessage()
    message["Subject"] = alert.subject
    message["From"] = os.environ.get("SCO_GREEN_SMTP_FROM") or f"sco-green@{socket.gethostname()}"
    message["To"] = ", ".join(to)
    message.set_content(alert.text)
    with smtplib.SMTP(host, int(os.environ.get("SCO_GREEN_SMTP_PORT") or 25), timeout=30) as smtp:
        if os.environ.get("SCO_GREEN_SMTP_STARTTLS", "").lower() in ("1", "true", "yes"):
            smtp.starttls()
        if os.environ.get("SCO_GREEN_SMTP_USER"):
            smtp.login(os.environ["SCO_GREEN_SMTP_USER"], os.environ.get("SCO_GREEN_SMTP_PASSWORD", ""))
        smtp.send_message(message)
    return True


def send_webhook(alert: Alert) -> bool:
    """POST the alert as JSON when a webhook is configured; True when it was accepted."""
    url = os.environ.get("SCO_GREEN_ALERT_WEBHOOK_URL")
    if not url:
        return False
    body = json.dumps(asdict(alert), default=str, ensure_ascii=False).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return 200 <= response.status < 300


def deliver(alert: Alert) -> list[str]:
    """Send on every configured channel; returns the channels that took it."""
    from sco_green.warehouse import one_line

    sent = []
    for channel, send in (("email", send_email), ("webhook", send_webhook)):
        try:
            if send(alert):
                sent.append(channel)
        except Exception as exc:  # noqa: BLE001 - an alert must not fail what it reports on
            log.warning("alert by %s not sent: %s", channel, one_line(exc))
    return sent


def task_failed_alert(context: dict[str, Any]) -> Alert:
    from sco_green.warehouse import one_line

    ti = context.get("task_instance") or context.get("ti")
    dag_id, task_id = getattr(ti, "dag_id", "?"), getattr(ti, "task_id", "?")
    exc = context.get("exception")
    cause = one_line(exc) if exc else "failed"
    run_id = getattr(context.get("dag_run"), "run_id", "")
    return Alert(
        "task_failed",
        f"[sco-green] task failed: {dag_id}.{task_id}",
        f"Task {dag_id}.{task_id} failed in run {run_id}.\nCause: {cause}\n"
        f"Try {getattr(ti, 'try_number', '?')}; the task log in Airflow has the rest.",
        {"dag_id": dag_id, "task_id": task_id, "run_id": run_id, "cause": cause},
    )


def night_alert(published: bool, url: str | None = None) -> Alert:
    """The night's outcome from the ledger: files, rows, quarantined, and whether marts were published."""
    from sco_green.warehouse import connect

    with connect(url) as conn:
        rows = conn.execute(
            "WITH latest AS (SELECT feed, max(ran_at) AS ran_at, max(logical_date) AS day FROM audit.feed_cycles"
            " GROUP BY feed), previous AS (SELECT c.feed, max(c.ran_at) AS ran_at FROM audit.feed_cycles c"
            " JOIN latest l USING (feed) WHERE c.ran_at < l.ran_at GROUP BY c.feed)"
            " SELECT l.status, count(*), coalesce(sum(l.rows_loaded), 0), coalesce(sum(l.rows_quarantined), 0)"
            " FROM audit.load_ledger l JOIN latest USING (feed) LEFT JOIN previous p USING (feed)"
            " WHERE l.loaded_at <= latest.ran_at AND (p.ran_at IS NULL OR l.loaded_at > p.ran_at)"
            " GROUP BY l.status ORDER BY l.status"
        ).fetchall()
    files = {status: n for status, n, _, _ in rows}
    loaded = sum(r[2] for r in rows)
    quarantined = sum(r[3] for r in rows)
    outcome = "marts published" if published else "marts kept as they were (the build did not pass)"
    summary = ", ".join(f"{n} {status}" for status, n in files.items()) or "no new files"
    return Alert(
        "night_finished",
        f"[sco-green] night finished: {outcome}",
        f"Files: {summary}.\nRows loaded: {loaded}; rows quarantined: {quarantined}.\n{outcome[0].upper()}"
        f"{outcome[1:]}.\nThe audit page (var/audit/index.html) has every file and check.",
        {"files": files, "rows_loaded": loaded, "rows_quarantined": quarantined, "marts_published": published},
    )


class TaskFailedNotifier(BaseNotifier):
    """``on_failure_callback`` of every task: the task, its run and its cause."""

    def notify(self, context: Any) -> None:
        deliver(task_failed_alert(context))


class NightNotifier(BaseNotifier):
    """``on_success_callback`` / ``on_failure_callback`` of the build DAG: how the night ended."""

    def __init__(self, published: bool) -> None:
        super().__init__()
        self.published = published

    def notify(self, context: Any) -> None:
        from sco_green.warehouse import one_line

        try:
            alert = night_alert(self.published)
        except Exception as exc:  # noqa: BLE001 - still say the night ended, without its figures
            alert = Alert("night_finished", "[sco-green] night finished", f"Summary unavailable: {one_line(exc)}", {})
        deliver(alert)


# The build DAG's callbacks are plain functions around the notifier: ``dag.test()`` (the in-process
# nightly) hands DAG callbacks a serialized DAG, which cannot render a notifier's templates.
def night_published(context: Any) -> None:
    NightNotifier(published=True).notify(context)


def night_kept(context: Any) -> None:
    NightNotifier(published=False).notify(context)
