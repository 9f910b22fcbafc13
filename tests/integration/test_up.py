"""``sco-green up`` on the embedded default, as a data engineer, a report author and an auditor use it.

Airflow's real processes on a real embedded PostgreSQL: the scheduler runs the night, a run is
triggered through the API the UI uses, a hand-started ``nightly`` coexists with it, ``sql`` reads
marts as the reporter and the quarantine as the auditor, the UI is logged into in Chromium, and
SIGTERM leaves no process behind.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
from playwright.sync_api import sync_playwright

from sco_green.generate import generate
from sco_green.nightly import BUILD_DAGS, INGEST_DAGS
from tests.task_logs import assert_validating_tasks_found_the_engine_preloaded

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _shell_env() -> dict[str, str]:
    """A fresh shell's environment: none of this test process's Airflow, warehouse or var settings."""
    drop = ("AIRFLOW", "SCO_GREEN", "WAREHOUSE_URL", "DBT_")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}


def _cli(folder: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sco_green.cli", *args],
        cwd=folder,
        env=_shell_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class Api:
    def __init__(self, port: int, token: str | None = None) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.token = token

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            return exc.code, {}

    def runs(self) -> list[dict]:
        status, body = self.call("GET", "/api/v2/dags/~/dagRuns?limit=100&order_by=id")
        assert status == 200
        return body["dag_runs"]

    def wait_for(self, predicate, timeout: float, what: str) -> list[dict]:
        deadline = time.monotonic() + timeout
        runs: list[dict] = []
        while time.monotonic() < deadline:
            runs = self.runs()
            if predicate(runs):
                return runs
            assert not [r for r in runs if r["state"] == "failed"], runs
            time.sleep(3)
        raise AssertionError(f"{what} not reached in {timeout:.0f}s: {[(r['dag_id'], r['state']) for r in runs]}")


def _succeeded(runs: list[dict], dag_id: str) -> int:
    return sum(1 for r in runs if r["dag_id"] == dag_id and r["state"] == "success")


def _read_until(process: subprocess.Popen[str], marker: str, timeout: float) -> list[str]:
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    os.set_blocking(process.stdout.fileno(), False)
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line:
            lines.append(line.rstrip("\n"))
            if marker in line:
                # the lines printed with it
                time.sleep(0.5)
                lines += [x.rstrip("\n") for x in process.stdout.readlines()]
                return lines
        elif process.poll() is not None:
            raise AssertionError(f"up exited with {process.returncode}: {lines} {process.stderr.read()}")
        else:
            time.sleep(0.2)
    raise AssertionError(f"{marker!r} not printed in {timeout:.0f}s: {lines}")


PAGES = {  # menu entry -> (path under /sco-green, text on the page)
    "Report 报告": ("report", "SCO Green Industry Development and Cooperation Report"),
    "Audit 审计": ("audit", "Quarantined rows by rule"),
    "dbt docs 数据模型文档": ("dbt-docs", "SCO green-industry cooperation warehouse"),  # the overview page
    "Data Docs 校验文档": ("data-docs/index.html", "Validation Results"),
}


def _plugin_pages_need_a_login_and_stay_in_their_folders(port: int, api: Api) -> None:
    anonymous = Api(port)
    for path, text in PAGES.values():
        assert anonymous.call("GET", f"/sco-green/{path}")[0] == 401, path
        request = urllib.request.Request(
            f"{api.base}/sco-green/{path}", headers={"Authorization": f"Bearer {api.token}"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200 and text in response.read().decode("utf-8"), path
    for escape in ("data-docs/%2e%2e/%2e%2e/airflow/secrets.json", "data-docs/..%2f..%2fairflow%2fsecrets.json"):
        assert api.call("GET", f"/sco-green/{escape}")[0] == 404, escape


def _log_in_and_see_the_dags(port: int, password: str, shot: Path) -> None:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"http://127.0.0.1:{port}/")
        page.wait_for_selector("input[name='username']", timeout=60_000)
        page.fill("input[name='username']", "admin")
        page.fill("input[name='password']", password)
        page.keyboard.press("Enter")
        page.wait_for_url(lambda url: "login" not in url, timeout=60_000)
        page.goto(f"http://127.0.0.1:{port}/dags")
        for dag_id in (*INGEST_DAGS, *BUILD_DAGS):
            page.get_by_text(dag_id, exact=True).first.wait_for(timeout=60_000)
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot), full_page=True)
        for name, (path, text) in PAGES.items():
            page.get_by_role("button", name="Plugins").click()
            page.get_by_text("SCO green", exact=True).click()
            page.get_by_text(name, exact=True).click()
            frame = page.frame_locator(f"iframe[src*='/sco-green/{path.split('/')[0]}']")
            frame.get_by_text(text).first.wait_for(timeout=60_000)
            page.screenshot(path=str(shot.with_name(f"airflow-ui-{path.split('/')[0]}.png")))
        browser.close()


def test_up_runs_the_night_in_airflow_and_serves_every_user_until_sigterm(tmp_path: Path) -> None:
    folder = tmp_path / "site"
    inbox = folder / "inbox"
    generate(inbox, cycle=1, faults=True)
    night_files = sorted(p.name for p in inbox.rglob("*.csv"))
    port = _free_port()
    started = time.monotonic()
    up = subprocess.Popen(
        [sys.executable, "-m", "sco_green.cli", "up", "--port", str(port)],
        cwd=folder,
        env=_shell_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        lines = _read_until(up, "Airflow is up", timeout=240)
        assert time.monotonic() - started < 120, lines
        [login] = [line for line in lines if "login: admin / " in line]
        password = re.search(r"login: admin / (\S+)", login)[1]
        secret = folder / "var" / "airflow" / "simple_auth_manager_passwords.json.generated"
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600
        assert json.loads(secret.read_text())["admin"] == password

        assert Api(port).call("GET", "/api/v2/dags")[0] in (401, 403)
        status, token = Api(port).call("POST", "/auth/token", {"username": "admin", "password": password})
        assert status in (200, 201)
        api = Api(port, token["access_token"])
        # The scheduler runs the latest 02:00 slot at once (catchup=False), and the Asset-triggered build follows.
        api.wait_for(lambda runs: _succeeded(runs, "build_warehouse") >= 1, 600, "the scheduled night")

        # A run triggered as the UI's trigger button does (the build waits for all three feeds' Assets).
        status, _ = api.call("POST", "/api/v2/dags/ingest_trade/dagRuns", {"logical_date": None})
        assert status == 200
        api.wait_for(lambda runs: _succeeded(runs, "ingest_trade") >= 2, 300, "the triggered run")

        beside = _cli(folder, "nightly", "--inbox", "inbox", "--logical-date", "2025-12-30", "--wait", "900")
        assert beside.returncode == 0, beside.stderr
        assert "no new files" in beside.stdout

        marts = _cli(folder, "sql", "--role", "reporter", "-c", "SELECT count(*) FROM marts.fct_trade")
        assert marts.returncode == 0, marts.stderr
        assert int(marts.stdout.split()[2]) > 1000
        raw = _cli(folder, "sql", "--role", "reporter", "-c", "SELECT count(*) FROM raw.trade")
        assert raw.returncode != 0 and "permission denied" in raw.stderr
        quarantine = _cli(folder, "sql", "--role", "auditor", "-c", "SELECT count(*) FROM audit.quarantine")
        assert quarantine.returncode == 0 and int(quarantine.stdout.split()[2]) > 0

        ledger = _cli(folder, "sql", "--role", "auditor", "-c", "SELECT count(*) FROM audit.load_ledger")
        assert int(ledger.stdout.split()[2]) == len(night_files)  # the triggered run and the nightly loaded nothing
        page = (folder / "var" / "audit" / "index.html").read_text(encoding="utf-8")
        assert all(name in page for name in night_files)

        # The night's three feeds each validated files, in tasks forked from a preloaded worker.
        assert_validating_tasks_found_the_engine_preloaded(folder / "var" / "airflow" / "logs", 3)
        _plugin_pages_need_a_login_and_stay_in_their_folders(port, api)
        shots = Path(os.environ.get("SCO_GREEN_SCREENSHOT_DIR") or tmp_path)  # kept as artifacts when named
        _log_in_and_see_the_dags(port, password, shots / "airflow-ui-dags.png")
        family = [up.pid, *(c.pid for c in psutil.Process(up.pid).children(recursive=True))]
        postmaster = int((folder / "var" / "warehouse" / "postmaster.pid").read_text().split()[0])
    finally:
        up.send_signal(signal.SIGTERM)
        try:
            up.wait(timeout=90)
        finally:
            if up.poll() is None:
                os.killpg(up.pid, signal.SIGKILL)
    assert up.returncode == 0
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(psutil.pid_exists(p) for p in (*family, postmaster)):
        time.sleep(0.5)
    left = [p for p in (*family, postmaster) if psutil.pid_exists(p) and psutil.Process(p).status() != "zombie"]
    assert left == []
