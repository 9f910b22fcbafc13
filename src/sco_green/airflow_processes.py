"""Airflow's own processes (api-server, scheduler, DAG processor, ...) as local child processes.

Each process runs in a process group of its own, with its output in ``<logs>/<name>.log``;
``stop()`` sends SIGTERM to every group it started, then SIGKILL to what is left after a grace
period, so the children those processes forked (task runners, gunicorn workers) go too.
``sco-green up`` and the CeleryExecutor cluster both start their processes through it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from sco_green.paths import project_root


class ProcessesFailed(RuntimeError):
    """An Airflow process did not start, or exited while it should be running."""


class AirflowProcesses:
    def __init__(self, logs: Path, port: int) -> None:
        self.logs = logs
        self.port = port
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def spawn(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        """Start ``airflow <args>`` as process ``name``, in its own process group."""
        self.logs.mkdir(parents=True, exist_ok=True)
        with open(self.logs / f"{name}.log", "ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "airflow", *args],
                env=env,
                cwd=project_root(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.processes[name] = process
        return process

    def run_once(self, name: str, args: list[str], env: dict[str, str], timeout: float = 600) -> None:
        """Run ``airflow <args>`` to completion (a migration); ProcessesFailed if it fails."""
        process = self.spawn(name, args, env)
        try:
            code = process.wait(timeout=timeout)
        finally:
            self.processes.pop(name, None)
        if code != 0:
            raise ProcessesFailed(f"airflow {' '.join(args)} failed; see {self.logs / (name + '.log')}")

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise ProcessesFailed(f"{name} exited with {process.returncode}; see {self.logs / (name + '.log')}")

    def health(self) -> dict | None:
        """The api-server's /api/v2/monitor/health answer, or None while it does not answer."""
        try:
            url = f"http://127.0.0.1:{self.port}/api/v2/monitor/health"
            with urllib.request.urlopen(url, timeout=5) as response:
                return json.loads(response.read()) if response.status == 200 else None
        except (OSError, ValueError):
            return None

    def wait_for_health(self, components: tuple[str, ...] = (), timeout: float = 180) -> dict:
        """Wait until the api-server answers and each named component reports healthy."""
        deadline = time.monotonic() + timeout
        state: dict | None = None
        while time.monotonic() < deadline:
            self.check_alive()
            state = self.health()
            if state is not None and all((state.get(c) or {}).get("status") == "healthy" for c in components):
                return state
            time.sleep(1)
        raise ProcessesFailed(f"Airflow not healthy after {timeout:.0f}s ({state}); see {self.logs}")

    def stop(self, grace: float = 30) -> None:
        """SIGTERM each process group, SIGKILL what is left after ``grace`` seconds."""
        for process in self.processes.values():
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + grace
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(process.pid, signal.SIGKILL)  # children of an exited leader, too
            except ProcessLookupError:
                pass
            process.wait()
        self.processes.clear()
