"""DagBag import test and DAG policy: owners, tags, retries, explicit timetables and catchup."""

import ast
from pathlib import Path

import pytest
from airflow.dag_processing.dagbag import DagBag

from sco_green.paths import dags_dir

EXPECTED = {"ingest_members", "ingest_trade", "ingest_recycling", "build_warehouse"}


@pytest.fixture(scope="module")
def bag() -> DagBag:
    return DagBag(dag_folder=str(dags_dir()))


def test_dags_import_without_errors(bag: DagBag) -> None:
    assert bag.import_errors == {}
    assert EXPECTED <= set(bag.dag_ids)


def test_every_dag_has_owner_tags_and_retries(bag: DagBag) -> None:
    for dag in bag.dags.values():
        assert dag.tags, dag.dag_id
        assert dag.default_args.get("owner") not in (None, "airflow"), dag.dag_id
        assert "retries" in dag.default_args, dag.dag_id


def test_schedules_are_explicit_timetables_or_assets_and_catchup_is_off(bag: DagBag) -> None:
    kinds = {dag.dag_id: type(dag.timetable).__name__ for dag in bag.dags.values()}
    for dag_id in ("ingest_members", "ingest_trade", "ingest_recycling"):
        assert kinds[dag_id] == "CronTriggerTimetable"
    assert kinds["build_warehouse"] == "AssetTriggeredTimetable"
    for dag in bag.dags.values():
        assert dag.catchup is False, dag.dag_id


def test_ingest_dags_emit_their_raw_asset(bag: DagBag) -> None:
    for feed in ("members", "trade", "recycling"):
        dag = bag.dags[f"ingest_{feed}"]
        outlets = {o.name for t in dag.tasks for o in t.outlets}
        assert f"raw_{feed}" in outlets


def test_dag_files_are_thin_and_state_schedule_and_catchup_in_the_factory() -> None:
    """DAG files only import and call a factory; the factory passes schedule= and catchup= explicitly."""
    for path in Path(dags_dir()).glob("*.py"):
        tree = ast.parse(path.read_text())
        kinds = {type(node).__name__ for node in tree.body}
        assert kinds <= {"Expr", "ImportFrom", "Import", "Assign"}, path.name
    root = Path(dags_dir()).parent / "src" / "sco_green"
    for factory in ("ingest_dag.py", "build_dag.py"):
        text = (root / factory).read_text()
        assert "schedule=" in text and "catchup=False" in text
        assert 'schedule="' not in text and "schedule='" not in text


def _manifest_nodes() -> dict[str, dict]:
    import json

    from sco_green.paths import dbt_project_dir

    manifest = json.loads((dbt_project_dir() / "target" / "manifest.json").read_text())
    return manifest["nodes"] | manifest["unit_tests"]


def test_build_dag_has_one_dbt_task_per_feed_after_a_single_seeds_and_views_task(bag: DagBag) -> None:
    dag = bag.dags["build_warehouse"]
    dbt_tasks = {t.task_id: t for t in dag.tasks if t.task_id.startswith("dbt.")}
    assert set(dbt_tasks) == {"dbt.trade", "dbt.recycling", "dbt.members"}
    first = dag.get_task("seeds_and_views")
    assert first.select == ["resource_type:seed", "config.materialized:view"]
    for task_id, task in dbt_tasks.items():
        assert task.select == [f"tag:{task_id.removeprefix('dbt.')}"] and task.exclude == first.select
        assert task.upstream_task_ids == {"seeds_and_views"}


def test_every_table_model_is_built_by_exactly_one_feed_task() -> None:
    """A table model without its feed's tag would never be built; with two, built twice at once."""
    from sco_green.build_dag import FEED_TAGS

    models = [n for n in _manifest_nodes().values() if n["resource_type"] == "model"]
    tables = [n for n in models if n["config"]["materialized"] != "view"]
    assert len(tables) == 9  # two winner tables and seven marts
    for node in tables:
        assert len(set(node["tags"]) & set(FEED_TAGS)) == 1, node["name"]


def test_views_and_tests_built_before_the_model_tasks_read_only_sources_seeds_and_views() -> None:
    """The seeds_and_views task runs first: a view (or a test of a view or seed, which dbt build
    runs with it) reading a table model would find it unbuilt on a first night, or read
    yesterday's rows. Such a view must get its own task instead."""
    nodes = _manifest_nodes()
    views = {uid for uid, n in nodes.items() if n["resource_type"] == "model" and n["config"]["materialized"] == "view"}
    first = views | {uid for uid, n in nodes.items() if n["resource_type"] == "seed"}
    tests = {
        uid
        for uid, n in nodes.items()
        if n["resource_type"] in ("test", "unit_test") and set(n["depends_on"]["nodes"]) & first
    }
    assert views and tests and any(uid.startswith("unit_test.") for uid in tests)
    for uid in views | tests:
        for parent in nodes[uid]["depends_on"]["nodes"]:
            assert parent.startswith("source.") or parent in first, f"{uid} reads {parent}"


def test_the_build_dbt_tasks_share_one_partial_parse_cache(bag: DagBag) -> None:
    """Without a cache dir a standalone Cosmos operator parses the whole project every night."""
    dag = bag.dags["build_warehouse"]
    dirs = {t.cache_dir for t in dag.tasks if t.task_id == "seeds_and_views" or t.task_id.startswith("dbt.")}
    assert len(dirs) == 1 and None not in dirs


def test_every_dbt_task_of_the_build_takes_full_refresh_from_the_dags_param(bag: DagBag) -> None:
    """A full rebuild night rebuilds every seed and model: no dbt task may miss the param."""
    dag = bag.dags["build_warehouse"]
    assert dag.params["full_refresh"] is False
    dbt_tasks = [t for t in dag.tasks if t.task_id == "seeds_and_views" or t.task_id.startswith("dbt.")]
    assert len(dbt_tasks) > 1
    assert {t.full_refresh for t in dbt_tasks} == {"{{ params.full_refresh }}"}
