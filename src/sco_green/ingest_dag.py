"""The ingest DAG of one feed: land -> validate -> publish, emitting the feed's raw Asset."""

from __future__ import annotations

from typing import Any

from airflow.sdk import DAG, dag, get_current_context, task
from airflow.timetables.trigger import CronTriggerTimetable

from sco_green.assets import RAW_ASSETS
from sco_green.dag_support import DEFAULT_ARGS, PIPELINE_TZ, START_DATE, inbox_from, logical_day


def build_ingest_dag(feed: str) -> DAG:
    @dag(
        dag_id=f"ingest_{feed}",
        description=f"Land, validate (Great Expectations) and publish the {feed} feed into raw.{feed}",
        schedule=CronTriggerTimetable("0 2 * * *", timezone=PIPELINE_TZ),
        start_date=START_DATE,
        # Each run processes whatever the inbox holds; an old logical date has nothing of its own to
        # load, so missed nights are not replayed.
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        tags=["sco-green", "ingest", feed],
        params={"inbox": None},
        doc_md=__doc__,
    )
    def ingest() -> None:
        @task
        def land_files() -> list[dict[str, Any]]:
            from sco_green import pipeline, warehouse
            from sco_green.cycle_lock import task_lock

            context = get_current_context()
            url = warehouse.warehouse_url()
            with task_lock(f"ingest_{feed}.land"):
                warehouse.bootstrap(url)
                return [entry.as_xcom() for entry in pipeline.land(feed, inbox_from(context), url)]

        @task
        def validate_files(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
            from sco_green import pipeline, warehouse
            from sco_green.cycle_lock import task_lock

            with task_lock(f"ingest_{feed}.validate"):
                landed = [pipeline.FileEntry.from_xcom(entry) for entry in entries]
                return [entry.as_xcom() for entry in pipeline.validate(landed, warehouse.warehouse_url())]

        @task(outlets=[RAW_ASSETS[feed]])
        def publish_files(entries: list[dict[str, Any]]) -> dict[str, int]:
            from sco_green import pipeline, warehouse
            from sco_green.cycle_lock import task_lock

            context = get_current_context()
            with task_lock(f"ingest_{feed}.publish"):
                validated = [pipeline.FileEntry.from_xcom(entry) for entry in entries]
                return pipeline.publish(validated, warehouse.warehouse_url(), feed, logical_day(context))

        @task
        def update_data_docs(published: dict[str, int]) -> str:
            """GX Data Docs for auditors, rebuilt from the stored validation results."""
            from sco_green.validation import refresh_data_docs

            return str(refresh_data_docs(published))

        update_data_docs(publish_files(validate_files(land_files())))

    return ingest()
