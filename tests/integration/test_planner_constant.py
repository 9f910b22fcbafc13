"""planner_constant (dbt_project/macros/planner_constant.sql): a per_node constant is looked up
once per build of a node, however often the node asks, and again on the next build."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest

from sco_green.dbt_runner import run_dbt
from sco_green.paths import dbt_project_dir

# Each lookup of the query draws the next number of the sequence.
PROBE = """
select
    {{ planner_constant("select nextval('public.probe_draws')", per_node=True) }} as first_ask,
    {{ planner_constant("select nextval('public.probe_draws')", per_node=True) }} as second_ask,
    {{ planner_constant("select nextval('public.probe_draws')") }} as plain_ask
"""


@pytest.fixture
def project_with_probe(tmp_path: Path, warehouse_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the project with one more staging view that asks for constants."""
    root = tmp_path / "home"
    shutil.copytree(dbt_project_dir(), root / "dbt_project", ignore=shutil.ignore_patterns("target", "logs"))
    (root / "dbt_project" / "models" / "staging" / "stg_probe__constants.sql").write_text(PROBE)
    monkeypatch.setenv("SCO_GREEN_HOME", str(root))
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute("CREATE SEQUENCE public.probe_draws")
    return root


def _build_probe(url: str) -> tuple[int, int, int]:
    run_dbt(["run", "--select", "stg_probe__constants"])
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT first_ask, second_ask, plain_ask FROM staging.stg_probe__constants").fetchone()


def test_a_per_node_constant_is_looked_up_once_per_build(project_with_probe: Path, warehouse_url: str) -> None:
    first, second, plain = _build_probe(warehouse_url)
    assert first == second and plain > first
    again = _build_probe(warehouse_url)
    assert again[0] == again[1] and again[0] > plain
