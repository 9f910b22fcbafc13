"""The in-process nightly's heap handling around its DAG runs."""

import gc
import importlib
import sys
import weakref
from pathlib import Path

import pytest

from sco_green.nightly import _frozen_heap, _load_frozen


class _Node:
    """A reference cycle of these is garbage only the collector can free."""

    def __init__(self) -> None:
        self.other: _Node | None = None


def _garbage_cycle() -> weakref.ref:
    first, second = _Node(), _Node()
    first.other, second.other = second, first
    return weakref.ref(first)


def test_a_dag_run_keeps_the_loaded_heap_out_of_gc_scans_and_releases_it_after() -> None:
    loaded = [[] for _ in range(1000)]  # lists are tracked by the collector
    assert gc.get_freeze_count() == 0
    with _frozen_heap():
        assert gc.get_freeze_count() >= len(loaded)  # already-loaded objects are not scanned
    assert gc.get_freeze_count() == 0  # and are collectable again afterwards


def test_settling_after_a_run_frees_its_garbage_and_freezes_what_it_kept() -> None:
    with _frozen_heap() as settle:
        frozen_before = gc.get_freeze_count()
        kept = [[] for _ in range(1000)]  # what a DAG run leaves loaded (modules, caches)
        dropped = _garbage_cycle()  # what it leaves behind as garbage
        settle()
        assert dropped() is None  # collected, not frozen with the survivors
        assert gc.get_freeze_count() >= frozen_before + len(kept)
    assert gc.get_freeze_count() == 0


def test_the_build_starts_with_its_libraries_loaded_and_out_of_gc_scans(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "heavy_library.py").write_text("import time\ntime.sleep(0.05)\ntables = [[] for _ in range(1000)]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    with _frozen_heap():
        frozen_before = gc.get_freeze_count()
        seconds = _load_frozen(("heavy_library",))
        assert "heavy_library" in sys.modules and seconds >= 0.05  # the import's time, for the log
        # what the import made is frozen at once, not scanned by each later collection
        assert gc.get_freeze_count() >= frozen_before + len(sys.modules["heavy_library"].tables)
    del sys.modules["heavy_library"]
    assert gc.get_freeze_count() == 0
