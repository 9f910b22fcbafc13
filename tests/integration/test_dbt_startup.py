"""dbt commands run one after the other in one process share one parsed manifest, and only
while the project files, the parse flags and the profile are the same."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from dbt.cli.main import dbtRunner

from sco_green.dbt_runner import apply_dbt_env
from sco_green.dbt_startup import shared_manifest
from sco_green.paths import dbt_project_dir


def _copy_of_the_project(into: Path) -> Path:
    """What Cosmos runs each task in: a temporary copy of the project."""
    project = dbt_project_dir()
    shutil.copytree(project, into, ignore=shutil.ignore_patterns("target", "logs"))
    return into


def _seed_build(project: Path) -> list[str]:
    return [
        "--no-write-json",
        "--log-level-file",
        "none",
        "build",
        "--select",
        "hs_versions",
        "--vars",
        "marts_schema: marts_build\n",
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(dbt_project_dir()),
        "--profile",
        "sco_green",
        "--target",
        "warehouse",
    ]


def test_a_second_command_reuses_the_manifest_and_reads_seeds_from_its_own_copy(
    tmp_path: Path, warehouse_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    apply_dbt_env(warehouse_url)
    first = _copy_of_the_project(tmp_path / "first")
    monkeypatch.chdir(first)
    manifest = shared_manifest(_seed_build(first), "files-1")
    assert manifest is not None
    shutil.rmtree(first)  # Cosmos deletes a task's copy when the task ends

    second = _copy_of_the_project(tmp_path / "second")
    monkeypatch.chdir(second)
    assert shared_manifest(_seed_build(second), "files-1") is manifest
    seed = next(node for node in manifest.nodes.values() if node.name == "hs_versions")
    assert seed.root_path == str(second)
    result = dbtRunner(manifest=manifest).invoke(_seed_build(second))
    assert result.success, result.exception
    with psycopg.connect(warehouse_url) as conn:
        rows = conn.execute("SELECT count(*) FROM ref.hs_versions").fetchone()[0]
    seed_file = second / "seeds" / "hs_versions.csv"
    assert rows == len(seed_file.read_text(encoding="utf-8").splitlines()) - 1

    assert shared_manifest(_seed_build(second), "files-2") is not manifest  # the project's files changed


def test_another_warehouse_gets_a_manifest_parsed_for_its_own_database(
    tmp_path: Path, warehouse_url: str, new_database: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _copy_of_the_project(tmp_path / "copy")
    monkeypatch.chdir(project)
    apply_dbt_env(warehouse_url)
    first = shared_manifest(_seed_build(project), "files")
    other = new_database("sco_test")
    apply_dbt_env(other)
    second = shared_manifest(_seed_build(project), "files")
    assert second is not first
    databases = {node.database for node in second.nodes.values() if node.resource_type == "seed"}
    assert databases == {other.rsplit("/", 1)[1].split("?")[0]}
