"""The in-process nightly's heap handling around a DAG run."""

import gc

from sco_green.nightly import _frozen_heap


def test_a_dag_run_keeps_the_loaded_heap_out_of_gc_scans_and_releases_it_after() -> None:
    loaded = [[] for _ in range(1000)]  # lists are tracked by the collector
    assert gc.get_freeze_count() == 0
    with _frozen_heap():
        assert gc.get_freeze_count() >= len(loaded)  # already-loaded objects are not scanned
    assert gc.get_freeze_count() == 0  # and are collectable again afterwards
