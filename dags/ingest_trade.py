"""Airflow DAG: Nightly ingest of the trade feed (inbox/trade/*.csv) into raw.trade; see sco_green.ingest_dag."""

from sco_green.ingest_dag import build_ingest_dag

dag = build_ingest_dag("trade")
