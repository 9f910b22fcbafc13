"""Airflow DAG: Nightly ingest of the members feed (inbox/members/*.csv) into raw.members; see sco_green.ingest_dag."""

from sco_green.ingest_dag import build_ingest_dag

dag = build_ingest_dag("members")
