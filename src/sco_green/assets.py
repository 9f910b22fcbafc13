"""Airflow Assets the ingest DAGs emit and the build DAG is scheduled on."""

from __future__ import annotations

from airflow.sdk import Asset

RAW_ASSETS: dict[str, Asset] = {
    feed: Asset(name=f"raw_{feed}", uri=f"x-sco-green://warehouse/raw/{feed}")
    for feed in ("members", "trade", "recycling")
}
MARTS_ASSET = Asset(name="marts", uri="x-sco-green://warehouse/marts")
