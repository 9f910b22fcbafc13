"""The build DAG: dbt over the freshly published raw tables, scheduled on the feeds' Assets."""

from __future__ import annotations

from airflow.sdk import DAG, dag, task

from sco_green.assets import MARTS_ASSET, RAW_ASSETS
from sco_green.dag_support import DEFAULT_ARGS, START_DATE, records_cause


def build_warehouse_dag() -> DAG:
    @dag(
        dag_id="build_warehouse",
        description="dbt seeds, staging, marts and tests over raw; publishes marts only when all tests pass",
        schedule=RAW_ASSETS["members"] | RAW_ASSETS["trade"] | RAW_ASSETS["recycling"],
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        default_args={**DEFAULT_ARGS, "retries": 0},
        tags=["sco-green", "dbt"],
    )
    def build() -> None:
        @task(outlets=[MARTS_ASSET])
        @records_cause
        def dbt_build() -> None:
            from sco_green.dbt_runner import run_dbt

            run_dbt(["build"])

        dbt_build()

    return build()
