"""Importing a stage's library in the background while the stage before waits on the warehouse."""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sco_green import background_imports

# A module that notes which thread imported it and when, so a test can see where and whether
# imports overlapped.
RECORDING_MODULE = """
import threading, time
started = time.monotonic()
time.sleep({sleep})
thread = threading.current_thread().name
finished = time.monotonic()
"""


@pytest.fixture
def modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on sys.path for throwaway modules; the modules and threads are forgotten after."""
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)
    threads = dict(background_imports._threads)
    yield tmp_path
    for name in set(sys.modules) - before:
        del sys.modules[name]
    background_imports._threads.clear()
    background_imports._threads.update(threads)


def _write(folder: Path, name: str, text: str) -> None:
    (folder / f"{name}.py").write_text(text)
    importlib.invalidate_caches()


def test_modules_are_imported_in_a_named_thread_that_wait_joins(modules: Path) -> None:
    _write(modules, "bg_slow", RECORDING_MODULE.format(sleep=0.2))
    thread = background_imports.start("slow", ["bg_slow"])
    assert thread is not None and thread.name == "import-slow" and not thread.daemon
    background_imports.wait("slow")
    assert not thread.is_alive()
    assert sys.modules["bg_slow"].thread == "import-slow"  # not imported by this thread


def test_a_name_starts_once_and_not_at_all_when_its_modules_are_loaded(modules: Path) -> None:
    _write(modules, "bg_once", RECORDING_MODULE.format(sleep=0))
    first = background_imports.start("once", ["bg_once"])
    assert background_imports.start("once", ["bg_once"]) is first
    background_imports.wait("once")
    assert background_imports.start("already", ["bg_once"]) is None
    background_imports.wait("never-started")  # nothing to wait for: returns at once


def test_a_failing_import_is_left_for_the_real_use_to_report(modules: Path) -> None:
    _write(modules, "bg_broken", "raise ImportError('bg_broken needs a library that is not installed')\n")
    _write(modules, "bg_after", RECORDING_MODULE.format(sleep=0))
    background_imports.start("broken", ["bg_broken", "bg_after"])
    background_imports.wait("broken")  # the thread's failure is not raised here
    assert "bg_after" not in sys.modules  # the rest of that library is not imported either
    with pytest.raises(ImportError, match="not installed"):
        importlib.import_module("bg_broken")


def test_two_background_imports_run_one_after_the_other(modules: Path) -> None:
    _write(modules, "bg_first", RECORDING_MODULE.format(sleep=0.3))
    _write(modules, "bg_second", RECORDING_MODULE.format(sleep=0.1))
    background_imports.start("first", ["bg_first"])
    time.sleep(0.05)  # the first thread holds the turn
    background_imports.start("second", ["bg_second"])
    background_imports.wait("first")
    background_imports.wait("second")
    first, second = sys.modules["bg_first"], sys.modules["bg_second"]
    assert second.started >= first.finished
