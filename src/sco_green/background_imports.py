"""Import a heavy library in a background thread while this process waits on the warehouse.

GX (3-5 s) and dbt (about 2 s) are imported on first use, in CPU of the process that uses
them. Where one process runs several stages (a night run in one process, ``ingest_feed``),
the stage before mostly waits on PostgreSQL (a COPY, validation queries), so importing the
next stage's library meanwhile takes that time off the next stage. A module already being
imported by the thread is simply waited for by anyone who imports it (Python's import lock).
The thread is not a daemon: a process that never uses the library finishes the import before
it exits rather than being torn down in the middle of one.
"""

from __future__ import annotations

import importlib
import logging
import sys
import threading
from collections.abc import Sequence

log = logging.getLogger(__name__)

_threads: dict[str, threading.Thread] = {}
# One background import at a time: two threads importing libraries that share dependencies
# could each hold a module lock the other needs, and on a GIL they would not finish sooner.
_one_at_a_time = threading.Lock()


def _import_all(name: str, modules: Sequence[str]) -> None:
    with _one_at_a_time:
        for module in modules:
            try:
                importlib.import_module(module)
            except Exception:  # noqa: BLE001 - the real use imports again and reports the error there
                log.debug("importing %s ahead of use (%s) failed", module, name, exc_info=True)
                return


def start(name: str, modules: Sequence[str]) -> threading.Thread | None:
    """Import ``modules`` in order in a thread named ``import-<name>``, once per process.

    Returns the thread, or None when every module is already imported.
    """
    if name in _threads:
        return _threads[name]
    if all(module in sys.modules for module in modules):
        return None
    thread = threading.Thread(target=_import_all, args=(name, tuple(modules)), name=f"import-{name}", daemon=False)
    _threads[name] = thread
    thread.start()
    return thread


def wait(name: str) -> None:
    """Block until the imports started under ``name`` are done (at once if none were started)."""
    thread = _threads.get(name)
    if thread is not None:
        thread.join()
