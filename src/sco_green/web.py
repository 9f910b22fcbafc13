"""The pages the three users read, served inside Airflow's api-server behind its login.

Mounted at ``/sco-green`` by the project's Airflow plugin (``sco_green.airflow_plugin``):

* ``/sco-green/report/{year}``: the latest report of the year (``/sco-green/report``: the newest year);
* ``/sco-green/audit``: the latest audit page; ``/sco-green/audit/{load_id}``: one file's;
* ``/sco-green/dbt-docs``: dbt's documentation site; ``/sco-green/data-docs/...``: GX Data Docs.

Every request needs an Airflow login (the UI's session cookie or a bearer token from
``/auth/token``): a request without one is refused, never served. Files are served read-only
from the project's var folder, and a path that resolves outside its folder (``..``, a symbolic
link) is refused. Who opened what is logged.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from airflow.api_fastapi.core_api.security import GetUserDep
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

from sco_green.paths import var_dir

log = logging.getLogger(__name__)

REPORT_NAME = re.compile(r"sco_green_report_(\d{4})\.html")


# Airflow's own dependency: the user of the UI's session cookie or of a bearer token, else 401/403.
User = GetUserDep


def confined(base: Path, relative: str) -> Path:
    """``base / relative`` as an existing file inside ``base`` (links resolved); 404 otherwise."""
    root = base.resolve()
    target = (root / relative).resolve()
    if not target.is_relative_to(root):
        raise HTTPException(status_code=404, detail="not found")
    if target.is_dir():
        target = target / "index.html"
    if not target.is_file():
        raise HTTPException(status_code=404, detail="not found")
    return target


def _serve(user: Any, request: Request, base: Path, relative: str) -> FileResponse:
    path = confined(base, relative)
    log.info("sco-green: %s opened %s", getattr(user, "get_name", lambda: "?")(), request.url.path)
    return FileResponse(path, headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


def report_years(reports: Path) -> list[int]:
    return sorted(int(m[1]) for p in reports.glob("sco_green_report_*.html") if (m := REPORT_NAME.fullmatch(p.name)))


def create_app() -> FastAPI:
    app = FastAPI(title="SCO green warehouse pages", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/")
    def home(user: User, request: Request) -> RedirectResponse:
        return RedirectResponse(str(request.url_for("latest_report")))

    @app.get("/report", name="latest_report")
    def latest_report(user: User, request: Request) -> FileResponse:
        years = report_years(var_dir() / "reports")
        if not years:
            raise HTTPException(status_code=404, detail="no report yet: run a night first")
        return _serve(user, request, var_dir() / "reports", f"sco_green_report_{years[-1]}.html")

    @app.get("/report/{year}")
    def report(year: int, user: User, request: Request) -> FileResponse:
        return _serve(user, request, var_dir() / "reports", f"sco_green_report_{year}.html")

    @app.get("/report/{year}/releases/{release}")
    def release(year: int, release: int, user: User, request: Request) -> FileResponse:
        return _serve(user, request, var_dir() / "reports" / "releases", f"{year}/release_{release}.html")

    @app.get("/audit")
    def audit(user: User, request: Request) -> FileResponse:
        return _serve(user, request, var_dir() / "audit", "index.html")

    @app.get("/audit/{load_id}", response_class=HTMLResponse)
    def audit_load(load_id: int, user: User, request: Request) -> HTMLResponse:
        from sco_green.audit_page import collect, render
        from sco_green.warehouse import connect

        with connect() as conn:
            page = collect(conn, load_ids=[load_id])
        if not page.files:
            raise HTTPException(status_code=404, detail=f"no load {load_id} in the ledger")
        log.info("sco-green: %s opened %s", getattr(user, "get_name", lambda: "?")(), request.url.path)
        return HTMLResponse(render(page), headers={"Cache-Control": "no-store"})

    @app.get("/dbt-docs")
    def dbt_docs(user: User, request: Request) -> FileResponse:
        return _serve(user, request, var_dir() / "dbt_docs", "static_index.html")

    @app.get("/data-docs")
    def data_docs_home(user: User, request: Request) -> RedirectResponse:
        return RedirectResponse(str(request.url_for("data_docs", path="index.html")))

    @app.get("/data-docs/{path:path}", name="data_docs")
    def data_docs(path: str, user: User, request: Request) -> FileResponse:
        return _serve(user, request, var_dir() / "data_docs", path or "index.html")

    return app
