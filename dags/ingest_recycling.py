"""Airflow DAG: Nightly ingest of the recycling feed (inbox/recycling/*.csv) into raw.recycling; see sco_green.ingest_dag."""

from sco_green.ingest_dag import build_ingest_dag

dag = build_ingest_dag("recycling")
