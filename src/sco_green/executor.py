"""Airflow's LocalExecutor, with the validation engine imported before its workers fork.

Each task process is forked from one of the executor's workers, which are forked from the
scheduler when the executor starts; importing GX here, once, spares every validating task the
import. ``up`` runs the scheduler with ``AIRFLOW__CORE__EXECUTOR`` set to this class's path.
"""

from __future__ import annotations

import importlib
import logging
import time

from airflow.executors.local_executor import LocalExecutor

log = logging.getLogger(__name__)

PRELOAD_MODULE = "sco_green.worker_preload"


def preload_validation_engine() -> bool:
    """Import the validation engine into this process; False (and a warning) if it fails,
    since each task then imports it itself and reports the error where it happens."""
    started = time.perf_counter()
    try:
        importlib.import_module(PRELOAD_MODULE)
    except Exception:  # noqa: BLE001 - the scheduler must start even if the engine cannot load
        log.warning("could not preload the validation engine; tasks import it themselves", exc_info=True)
        return False
    log.info("validation engine preloaded for the workers in %.1f s", time.perf_counter() - started)
    return True


class PreloadingLocalExecutor(LocalExecutor):
    """A LocalExecutor whose workers, and so every task they fork, start with GX imported."""

    def start(self) -> None:
        preload_validation_engine()
        super().start()
