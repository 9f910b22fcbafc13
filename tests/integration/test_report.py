"""The annual report: published by the nightly, rendered by a real browser, written atomically."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from sco_green.cli import main
from sco_green.generate import generate
from sco_green.paths import var_dir
from tests.conftest import scratch_warehouse

SECTIONS = ("background", "overview", "cases", "space", "mechanisms", "outlook")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """One nightly over the second night's faulted inbox, on a warehouse of its own: the inbox and
    what the command printed. The report, audit page and Data Docs it wrote are what these tests read."""
    inbox = tmp_path_factory.mktemp("night") / "inbox"
    generate(inbox, cycle=2, faults=True)
    with scratch_warehouse("sco_test"):
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            assert main(["nightly", "--inbox", str(inbox), "--logical-date", "2025-12-30"]) == 0
        yield inbox, printed.getvalue()


def test_nightly_publishes_a_report_that_renders_without_errors(
    tmp_path: Path, night: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    report = var_dir() / "reports" / "sco_green_report_2025.html"
    docs = var_dir() / "dbt_docs" / "static_index.html"
    site = docs.read_text(encoding="utf-8")
    assert "fct_trade" in site and "M = import, X = export." in site  # models and their column docs
    assert str(report) in night[1]
    for year in ("1999", "-1", "99999"):
        assert main(["report", "--year", year]) == 1
        [line] = capsys.readouterr().err.strip().splitlines()
        assert f"no data for {year}" in line and "they hold" in line and "2025" in line
    text = report.read_text(encoding="utf-8")
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", text)  # offline: nothing fetched, no CDN
    assert "<script src" not in text and "<link" not in text
    errors: list[str] = []
    shot = tmp_path / "report.png"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(report.as_uri())
        for section in SECTIONS:
            assert page.locator(f"section#{section} h2").is_visible(), section
        charts = page.locator("figure svg")
        assert charts.count() >= 3
        for i in range(charts.count()):
            box = charts.nth(i).bounding_box()
            assert box and box["width"] > 200 and box["height"] > 100
        assert "上海合作组织绿色产业发展和合作报告" in page.title()
        assert page.locator("text=Batken").first.is_visible()
        assert page.locator(".src code", has_text="marts.rpt_country_green_trade").count() >= 1
        page.screenshot(path=str(shot), full_page=True)
        pdf = tmp_path / "report.pdf"
        page.emulate_media(media="print")
        page.pdf(path=str(pdf), format="A4", print_background=True)
        browser.close()
    assert errors == []
    # "Save as PDF": each section starts a page, so the A4 file has at least one page per section.
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))
    assert pages >= len(SECTIONS) + 1
    assert shot.stat().st_size > 50_000
    keep = os.environ.get("SCO_GREEN_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / "report.png")
        shutil.copy(pdf, Path(keep) / "report.pdf")


def _open_recording_requests(url: str, shot: Path) -> tuple[list[str], list[str], object]:
    """Open ``url`` in Chromium; returns every request it made, console errors, and the page text."""
    requests: list[str] = []
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("request", lambda r: requests.append(r.url))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(url)
        page.wait_for_load_state("load")
        page.wait_for_timeout(1500)  # the scripts that fill the tables
        text = page.inner_text("body")
        styled = page.evaluate("getComputedStyle(document.body).fontFamily")
        page.screenshot(path=str(shot), full_page=False)
        browser.close()
    return requests, errors, (text, styled)


def test_the_audit_page_and_data_docs_render_offline_with_every_file_rule_and_check(
    tmp_path: Path, night: tuple[Path, str]
) -> None:
    inbox = night[0]
    keep = Path(os.environ.get("SCO_GREEN_SCREENSHOT_DIR") or tmp_path)
    keep.mkdir(parents=True, exist_ok=True)

    audit = var_dir() / "audit" / "index.html"
    requests, errors, (text, _) = _open_recording_requests(audit.as_uri(), keep / "audit-page.png")
    assert [r for r in requests if not r.startswith("file://")] == [] and errors == []
    assert "<script" not in audit.read_text(encoding="utf-8")
    for name in (p.name for p in inbox.rglob("*.csv")):
        assert name in text
    for rule in ("M01", "M05", "T06", "R07"):  # the faulted rows' rules, with their meaning
        assert rule in text
    assert "Quarantined rows by rule" in text and "隔离行" in text
    assert "Every expectation's result" in text and "The build's dbt tests" in text and "tests passed" in text

    docs = var_dir() / "data_docs"
    pages = [docs / "index.html", next((docs / "validations").rglob("*.html"))]
    for n, page in enumerate(pages):
        requests, errors, (text, font) = _open_recording_requests(page.as_uri(), keep / f"data-docs-{n}.png")
        assert [r for r in requests if not r.startswith("file://")] == []
        assert errors == []
        assert "Times" not in font  # Bootstrap's stylesheet loaded (an unstyled page falls back to serif)
    assert "Showing 1 to" in _open_recording_requests(pages[0].as_uri(), keep / "data-docs-0.png")[2][0]
