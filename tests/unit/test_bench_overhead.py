"""The overhead bench splits a night's wall time from the night's own log."""

from __future__ import annotations

from bench.overhead import split, task_durations

LOG = """\
2026-01-02T00:00:01.000000Z [info     ] [DAG TEST] starting task_id=land_files map_index=-1 [airflow]
2026-01-02T00:00:03.000000Z [info     ] Task started                   [airflow.api_fastapi]
2026-01-02T00:00:04.000000Z [info     ] [DAG TEST] end task task_id=land_files map_index=-1 [airflow]
2026-01-02T00:00:05.000000Z [info     ] [DAG TEST] starting task_id=land_files map_index=-1 [airflow]
2026-01-02T00:00:05.500000Z [info     ] [DAG TEST] end task task_id=land_files map_index=-1 [airflow]
sco-green: dbt loaded for the build in 2.00 s
2026-01-02T00:00:06.000000Z [info     ] [DAG TEST] starting task_id=seeds_and_views map_index=-1 [airflow]
\x1b[0m00:00:09  Finished running 9 seeds, 5 view models in 0 hours 0 minutes and 0.40 seconds (0.40s).
2026-01-02T00:00:10.000000Z [info     ] [DAG TEST] end task task_id=seeds_and_views map_index=-1 [airflow]
2026-01-02T00:00:10.000000Z [info     ] [DAG TEST] starting task_id=dbt.fct_trade_model_build map_index=-1 [airflow]
\x1b[0m00:00:11  Finished running 1 incremental model, 3 data tests in 0 hours 0 minutes and 0.60 seconds (0.60s).
2026-01-02T00:00:11.000000Z [info     ] [DAG TEST] end task task_id=dbt.fct_trade_model_build map_index=-1 [airflow]
2026-01-02T00:00:11.000000Z [info     ] [DAG TEST] starting task_id=publish_report map_index=-1 [airflow]
2026-01-02T00:00:12.000000Z [info     ] [DAG TEST] end task task_id=publish_report map_index=-1 [airflow]
"""


def test_task_times_add_up_per_task_id_and_dbt_node_time_is_read_from_dbt() -> None:
    tasks, airflow, dbt_nodes = task_durations(LOG)
    # land_files ran twice: 1 s after Airflow reported it started (2 s before that are Airflow's), then 0.5 s.
    assert tasks == {
        "land_files": 1.5,
        "dbt_import": 2.0,  # the build's import of dbt before its first task, from the night's own line
        "seeds_and_views": 4.0,
        "dbt.fct_trade_model_build": 1.0,
        "publish_report": 1.0,
    }
    assert airflow == 2.0
    assert dbt_nodes == 1.0


def test_wall_time_splits_into_airflow_ingest_dbt_and_other_tasks() -> None:
    tasks, _, dbt_nodes = task_durations(LOG)
    parts = split(20.0, tasks, dbt_nodes, warehouse=0.7)
    assert parts["airflow"] == 20.0 - 9.5
    assert parts["ingest_tasks"] == 1.5
    assert parts["dbt_startup"] == 2.0 + 4.0  # dbt's import at the build's start, then its tasks' start-up
    assert parts["dbt_nodes"] == 1.0
    assert parts["other_tasks"] == 1.0
    assert parts["warehouse"] == 0.7
