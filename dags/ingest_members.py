"""Airflow DAG ingest_members: nightly land, validate and publish of inbox/members/*.csv into raw.members.

The tasks live in sco_green.ingest_dag; this file only names the feed.
"""

from sco_green.ingest_dag import build_ingest_dag

dag = build_ingest_dag("members")
