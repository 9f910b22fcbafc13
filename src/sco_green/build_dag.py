"""The build DAG: dbt through Cosmos over the freshly published raw tables, then publish.

Scheduled on all three raw Assets (one build per night, after every feed published).
The seeds (small reference tables) and the views are built, with their tests, in one
``seeds_and_views`` task; then one Cosmos ``dbt build`` task per feed (``dbt.trade``,
``dbt.recycling``, ``dbt.members``: the feed's tagged tables with their data and unit tests).
A dbt invocation costs about a second whatever it does, so tasks are per feed rather than per
model. The incremental models do work in proportion to what the night brought, so a quiet
night's tasks are quick rather than skipped.
Marts are built into ``marts_build``; ``publish_marts`` swaps them in only when no task failed.
A run with the param ``full_refresh`` passes ``--full-refresh`` to every dbt task: seeds and
incremental tables are rebuilt from scratch, then tested and published the same way.
"""

from __future__ import annotations

import os
from pathlib import Path

from airflow.sdk import DAG, Param, TaskGroup, TriggerRule, dag, task
from airflow.sdk.exceptions import AirflowSkipException
from cosmos import ProfileConfig
from cosmos import settings as cosmos_settings
from cosmos.constants import InvocationMode
from cosmos.operators.local import DbtBuildLocalOperator

from sco_green.alerts import night_kept, night_published
from sco_green.assets import MARTS_ASSET, RAW_ASSETS
from sco_green.checks import collect_node_result, record_dbt_checks
from sco_green.cycle_lock import acquire_for_task, release_for_task
from sco_green.dag_support import DEFAULT_ARGS, START_DATE
from sco_green.dbt_runner import dbt_env
from sco_green.marts_publish import BUILD
from sco_green.paths import dbt_project_dir

DAG_ID = "build_warehouse"
DBT_GROUP_ID = "dbt"
# Built in one dbt invocation before the feeds' tasks. A view selected here may read only
# sources, seeds and other views (tests/unit/test_dags.py checks the manifest): the tables it
# would read are built after it.
SEEDS_AND_VIEWS = ["resource_type:seed", "config.materialized:view"]
# The dbt models are tagged with their feed (dbt_project.yml).
FEED_TAGS = ("trade", "recycling", "members")


def dbt_cache_dir() -> Path | None:
    """Cosmos's partial-parse cache shared by the build's dbt tasks (None: caching disabled)."""
    if not cosmos_settings.enable_cache:
        return None
    return cosmos_settings.cache_dir / f"{DAG_ID}__{DBT_GROUP_ID}"


def build_warehouse_dag() -> DAG:
    project = dbt_project_dir()
    # Task processes re-import this file: give dbt's profile the warehouse named by
    # WAREHOUSE_URL (an environment mapping only; nothing is connected to at parse time).
    if os.environ.get("WAREHOUSE_URL"):
        for key, value in dbt_env().items():
            os.environ.setdefault(key, value)

    @dag(
        dag_id=DAG_ID,
        description="dbt seeds, staging, marts and tests over raw; publishes marts only when all tests pass",
        # All three feeds: the scheduler runs the three ingest DAGs together at 02:00, and one
        # build per night sees all of them (an Asset event from a failed feed never arrives, so
        # the marts stay at yesterday's consistent state until the feed is fixed and rerun).
        schedule=RAW_ASSETS["members"] & RAW_ASSETS["trade"] & RAW_ASSETS["recycling"],
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        default_args={**DEFAULT_ARGS, "retries": 1},
        # How the night ended (files, rows, quarantined, marts published or kept), when alerts are configured.
        on_success_callback=night_published,
        on_failure_callback=night_kept,
        tags=["sco-green", "dbt"],
        doc_md=__doc__,
        params={
            "full_refresh": Param(
                False,
                type="boolean",
                description="Rebuild every seed and incremental table from scratch (dbt --full-refresh), "
                "e.g. after a change of history or of a model that the nightly checks do not detect.",
            )
        },
    )
    def build() -> None:
        @task
        def prepare_profile() -> int:
            """Fail early, with a clear cause, when the warehouse is not reachable; returns the
            marts' publication count, which ``publish_marts`` checks again."""
            from sco_green import warehouse
            from sco_green.cycle_lock import task_lock
            from sco_green.marts_publish import publication_count

            with task_lock("build_warehouse.prepare_profile"):
                warehouse.bootstrap(warehouse.warehouse_url())
                return publication_count()

        profile = ProfileConfig(
            profile_name="sco_green",
            target_name="warehouse",
            profiles_yml_filepath=project / "profiles.yml",
        )
        # --no-write-json: nothing reads a task's manifest.json or run_results.json (checks come
        # from dbt's events), and writing them is much of a quick task's time.
        # --log-level-file none: dbt's debug log file goes to the task's temporary copy of the
        # project, which Cosmos deletes when the task ends; the task log is unchanged.
        dbt_args = {
            "vars": {"marts_schema": BUILD},
            "dbt_cmd_global_flags": ["--no-write-json", "--log-level-file", "none"],
            "dbt_runner_callbacks": [collect_node_result],
            "callback": record_dbt_checks,
            "full_refresh": "{{ params.full_refresh }}",
            # Each dbt task holds the cycle lock while it runs (sco_green.cycle_lock).
            "pre_execute": acquire_for_task,
            "post_execute": release_for_task,
            "project_dir": project,
            "profile_config": profile,
            "invocation_mode": InvocationMode.DBT_RUNNER,
            "install_deps": False,
            "retries": 1,
            # Without a cache dir a standalone Cosmos operator parses the whole project every night.
            "cache_dir": dbt_cache_dir(),
        }
        seeds_and_views = DbtBuildLocalOperator(
            task_id="seeds_and_views",
            doc_md="Every seed (reference table) and every view, with their tests, in one dbt invocation.",
            select=SEEDS_AND_VIEWS,
            **dbt_args,
        )
        with TaskGroup(group_id=DBT_GROUP_ID, tooltip="dbt build of each feed's tables into marts_build") as dbt:
            for tag in FEED_TAGS:
                DbtBuildLocalOperator(
                    task_id=tag,
                    doc_md=f"The {tag} feed's winner, fact and report tables, with their data and unit tests.",
                    select=[f"tag:{tag}"],
                    exclude=SEEDS_AND_VIEWS,
                    **dbt_args,
                )

        @task(outlets=[MARTS_ASSET], trigger_rule=TriggerRule.NONE_FAILED)
        def publish_marts(built_after: int) -> list[str]:
            from sco_green.cycle_lock import task_lock
            from sco_green.marts_publish import publish_marts as swap

            with task_lock("build_warehouse.publish_marts"):
                return swap(built_after=built_after)

        @task
        def publish_report() -> str:
            """The annual report for the logical date's year, from the marts just published."""
            from airflow.sdk import get_current_context

            from sco_green.cycle_lock import task_lock
            from sco_green.dag_support import logical_day
            from sco_green.paths import var_dir
            from sco_green.report import nightly_report_year, write_report
            from sco_green.warehouse import connect

            with task_lock("build_warehouse.publish_report"):
                with connect() as conn:
                    year = nightly_report_year(conn, logical_day(get_current_context()).year)
                if year is None:
                    raise AirflowSkipException("the marts hold no data for any year yet: no report")
                return str(write_report(year, var_dir() / "reports"))

        @task
        def dbt_docs() -> str:
            """dbt's documentation site (static, one file) for report authors, under var/dbt_docs.

            Descriptions, columns, tests, lineage and each model's source, with the catalog of
            the published marts; generated again only when the project or the catalog changed
            (``sco_green.dbt_runner.write_docs``).
            """
            from sco_green.cycle_lock import task_lock
            from sco_green.dbt_runner import write_docs
            from sco_green.paths import var_dir

            with task_lock("build_warehouse.dbt_docs"):
                return str(write_docs(var_dir() / "dbt_docs"))

        generation = prepare_profile()

        @task(trigger_rule=TriggerRule.ALL_DONE)
        def audit_page() -> str:
            """The auditors' page of the night (var/audit/index.html), whether or not the build passed."""
            from sco_green.audit_page import write_audit_page

            return str(write_audit_page())

        @task
        def detect_restatements() -> int:
            """Each year's latest release against the marts just published (audit.restatements)."""
            from sco_green.cycle_lock import task_lock
            from sco_green.releases import detect_restatements as detect
            from sco_green.warehouse import connect

            with task_lock("build_warehouse.restatements"), connect() as conn, conn.transaction():
                return detect(conn)

        published = generation >> seeds_and_views >> dbt >> publish_marts(generation)
        revised = published >> detect_restatements()
        revised >> [publish_report(), dbt_docs()]
        published >> audit_page()

    return build()
