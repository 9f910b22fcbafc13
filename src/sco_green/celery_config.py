"""Celery's settings for the project's workers: Airflow's defaults, and the validation engine
imported before the pool forks (``sco_green.worker_preload``), so no task pays GX's import.

Named by ``AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS``, as Airflow's Celery provider documents.
"""

from __future__ import annotations

from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG

from sco_green.executor import PRELOAD_MODULE

CELERY_CONFIG = {**DEFAULT_CELERY_CONFIG, "imports": (*DEFAULT_CELERY_CONFIG.get("imports", ()), PRELOAD_MODULE)}
