"""Airflow DAG ingest_recycling: nightly land, validate and publish of inbox/recycling/*.csv into raw.recycling.

The tasks live in sco_green.ingest_dag; this file only names the feed.
"""

from sco_green.ingest_dag import build_ingest_dag

dag = build_ingest_dag("recycling")
