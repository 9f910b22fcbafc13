"""Nights that skip the model tasks, seeds and views already built from the night's inputs."""

from __future__ import annotations

import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest

from sco_green.generate import generate
from sco_green.marts_publish import mart_digests
from sco_green.nightly import CycleFailed, run_cycle
from sco_green.unchanged_models import RECORDS
from tests.integration.reliability.helpers import slip_unvalidated_trade_row

FIRST = date(2026, 1, 5)
MODELS = {
    "trade": ("int_trade__winning_revisions", "fct_trade", "rpt_country_green_trade"),
    "recycling": ("int_recycling__winning_tickets", "fct_recycling_tickets", "rpt_park_recycling_monthly"),
    "members": ("dim_members", "rpt_alliance_members", "rpt_alliance_fields"),
}


def _night(inbox: Path, day: int, *, full_refresh: bool = False) -> dict[str, str]:
    """Run a night; the state of each model task of its build."""
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    logical = FIRST + timedelta(days=day)
    run_cycle(inbox, logical, echo=lambda _line: None, full_refresh=full_refresh)
    with create_session() as session:
        run_id = (
            session.query(DagRun.run_id)
            .filter(DagRun.dag_id == "build_warehouse")
            .order_by(DagRun.id.desc())  # the run just made (other tests' runs share the metadata DB)
            .first()[0]
        )
        rows = (
            session.query(TaskInstance.task_id, TaskInstance.state)
            .filter(TaskInstance.dag_id == "build_warehouse", TaskInstance.run_id == run_id)
            .all()
        )
    return {task_id.split(".")[1]: str(state) for task_id, state in rows if task_id.startswith("dbt.")} | {
        task_id: str(state) for task_id, state in rows if not task_id.startswith("dbt.")
    }


def _oids(url: str, relations: tuple[str, ...]) -> dict[str, tuple[int, object]]:
    """The oid of each relation and when its build was recorded."""
    with psycopg.connect(url) as conn:
        return {
            name: conn.execute(
                f"SELECT to_regclass(%s)::oid, (SELECT built_at FROM {RECORDS} WHERE relation_oid = to_regclass(%s))",
                (name, name),
            ).fetchone()
            for name in relations
        }


SEED_AND_VIEWS = (
    "ref.countries",
    "ref.parks",
    "staging.stg_trade__trade_records",
    "staging.stg_members__snapshots",
    "staging.stg_recycling__tickets",
)


def _unit_tests_run(day: int) -> int:
    """How many dbt unit tests the night's build ran (from dbt's summary line of each task)."""
    from sco_green.paths import var_dir

    log = sorted((var_dir() / "logs").glob(f"nightly-{FIRST + timedelta(days=day)}-*.log"))[-1]
    found = re.findall(r"Finished running .*?(\d+) unit tests?", log.read_text(encoding="utf-8", errors="replace"))
    return sum(int(count) for count in found)


def _model_states(states: dict[str, str], feed: str) -> set[str]:
    return {states[f"{model}_model_build"] for model in MODELS[feed]}


def _add_new_ticket_files(inbox: Path, tmp_path: Path) -> None:
    later = tmp_path / "later"
    generate(later, cycle=2)
    for path in (later / "recycling").glob("*.csv"):
        if not (inbox / "recycling" / path.name).exists():
            shutil.copy(path, inbox / "recycling" / path.name)


def test_a_night_builds_only_the_models_of_the_feeds_that_changed_and_publishes_what_a_full_rebuild_gives(
    tmp_path: Path, warehouse_url: str
) -> None:
    inbox = tmp_path / "inbox"
    generate(inbox, cycle=1)
    first = _night(inbox, 0)
    assert all(_model_states(first, feed) == {"success"} for feed in MODELS)
    # The unit tests run on the first build of the project; later nights leave them out.
    assert _unit_tests_run(0) >= 5
    built_first = _oids(warehouse_url, SEED_AND_VIEWS)
    assert all(oid and built_at for oid, built_at in built_first.values())
    # marts_build was empty: the second night builds its tables; the winners in staging (one
    # copy, not swapped) were built from the same loads the night before.
    second = _night(inbox, 1)
    winners = {MODELS["trade"][0], MODELS["recycling"][0]}
    built = {model for models in MODELS.values() for model in models if second[f"{model}_model_build"] == "success"}
    assert built == {model for models in MODELS.values() for model in models} - winners
    assert {second[f"{model}_model_build"] for model in winners} == {"skipped"}
    assert second["seeds_and_views"] == "skipped"  # no seed file and no load changed

    _add_new_ticket_files(inbox, tmp_path)
    tickets = _night(inbox, 2)
    assert _model_states(tickets, "recycling") == {"success"}
    assert _model_states(tickets, "trade") == _model_states(tickets, "members") == {"skipped"}
    assert tickets["publish_marts"] == tickets["publish_report"] == "success"
    # Only the views that read the tickets were replaced (a new view, a new oid); the seeds and
    # the trade and member views were left as they were.
    assert tickets["seeds_and_views"] == "success"
    assert _unit_tests_run(2) == 0
    after_tickets = _oids(warehouse_url, SEED_AND_VIEWS)
    unchanged = ("ref.countries", "ref.parks", "staging.stg_trade__trade_records", "staging.stg_members__snapshots")
    assert {name: after_tickets[name] for name in unchanged} == {name: built_first[name] for name in unchanged}
    assert after_tickets["staging.stg_recycling__tickets"][0] != built_first["staging.stg_recycling__tickets"][0]
    published = mart_digests(warehouse_url)

    # The recycling tables in marts_build are the ones published two nights ago, built before
    # the new tickets: they are built again; the rest, and the recycling winners in staging
    # (one copy, not swapped), were built from the same loads.
    after = _night(inbox, 3)
    assert {after[f"{model}_model_build"] for model in MODELS["recycling"][1:]} == {"success"}
    assert after[f"{MODELS['recycling'][0]}_model_build"] == "skipped"
    assert _model_states(after, "trade") == _model_states(after, "members") == {"skipped"}
    assert mart_digests(warehouse_url) == published

    rebuilt = _night(inbox, 4, full_refresh=True)
    assert all(_model_states(rebuilt, feed) == {"success"} for feed in MODELS)
    assert rebuilt["seeds_and_views"] == "success"
    assert _unit_tests_run(4) == _unit_tests_run(0)  # a full refresh runs them all again
    assert all(
        built_at > after_tickets[name][1] for name, (_oid, built_at) in _oids(warehouse_url, SEED_AND_VIEWS).items()
    )
    assert mart_digests(warehouse_url) == published

    # Both schemas now hold tables built from the night's loads: nothing is built, and the
    # marts published are still the same figures.
    quiet = _night(inbox, 5)
    assert all(_model_states(quiet, feed) == {"skipped"} for feed in MODELS)
    assert quiet["seeds_and_views"] == "skipped"
    assert quiet["publish_marts"] == "success"
    assert mart_digests(warehouse_url) == published


def _recorded(url: str, schema: str, table: str) -> str | None:
    with psycopg.connect(url) as conn:
        found = conn.execute(
            f"SELECT inputs_digest FROM {RECORDS} WHERE relation_oid = to_regclass(%s)", (f"{schema}.{table}",)
        ).fetchone()
    return found[0] if found else None


def test_a_model_whose_tests_failed_keeps_no_record_and_is_never_taken_as_built(
    tmp_path: Path, warehouse_url: str
) -> None:
    inbox = tmp_path / "inbox"
    generate(inbox, cycle=1)
    _night(inbox, 0)
    _night(inbox, 1)
    assert _recorded(warehouse_url, "marts_build", "fct_trade") is not None
    published = _recorded(warehouse_url, "marts", "fct_trade")
    assert published is not None
    slip_unvalidated_trade_row(warehouse_url)
    with pytest.raises(CycleFailed, match="fct_trade"):
        _night(inbox, 2)
    # The failed table in marts_build holds the bad row: its record (from the first night) is
    # gone, so no later night can skip it whatever its loads are; the published one keeps its own.
    assert _recorded(warehouse_url, "marts_build", "fct_trade") is None
    assert _recorded(warehouse_url, "marts", "fct_trade") == published
