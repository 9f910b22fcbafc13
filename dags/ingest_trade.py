"""Airflow DAG ingest_trade: nightly land, validate and publish of inbox/trade/*.csv into raw.trade.

The tasks live in sco_green.ingest_dag; this file only names the feed.
"""

from sco_green.ingest_dag import build_ingest_dag

dag = build_ingest_dag("trade")
