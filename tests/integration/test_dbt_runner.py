"""dbt's documentation site: generated again only when what it shows changed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import psycopg
import pytest

from sco_green.dbt_runner import write_docs
from sco_green.generate import generate
from sco_green.nightly import run_cycle


def test_docs_are_generated_again_only_when_the_warehouse_catalog_changed(tmp_path: Path, warehouse_url: str) -> None:
    inbox = tmp_path / "inbox"
    generate(inbox, cycle=1)
    run_cycle(inbox, date(2025, 12, 29), echo=lambda _line: None)
    target = tmp_path / "docs"

    site = write_docs(target)
    assert "fct_trade" in site.read_text(encoding="utf-8")
    generated = site.stat().st_mtime_ns
    assert write_docs(target).stat().st_mtime_ns == generated  # the same project and catalog: kept

    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute("COMMENT ON COLUMN marts.fct_trade.hs6 IS 'six digits, as reported (a changed comment)'")
    site = write_docs(target)
    assert site.stat().st_mtime_ns != generated
    assert "a changed comment" in site.read_text(encoding="utf-8")
    assert write_docs(target).stat().st_mtime_ns == site.stat().st_mtime_ns


def test_docs_of_another_warehouse_are_never_taken_for_this_ones(
    tmp_path: Path, warehouse_url: str, new_database: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two databases with the same tables: the site names its database, so each gets its own."""
    inbox = tmp_path / "inbox"
    generate(inbox, cycle=1)
    run_cycle(inbox, date(2025, 12, 29), echo=lambda _line: None)
    target = tmp_path / "docs"
    first = write_docs(target).stat().st_mtime_ns

    other = new_database("sco_test")
    monkeypatch.setenv("WAREHOUSE_URL", other)
    run_cycle(inbox, date(2025, 12, 29), echo=lambda _line: None)
    site = write_docs(target)
    assert site.stat().st_mtime_ns != first
    assert other.rsplit("/", 1)[1].split("?")[0] in site.read_text(encoding="utf-8")
