"""Airflow DAG: Build the warehouse with dbt when any feed's raw table changed; see sco_green.build_dag."""

from sco_green.build_dag import build_warehouse_dag

dag = build_warehouse_dag()
