"""Progress for long work (generation, loads): rows/s and a bar on a terminal, plain lines otherwise.

While a nightly cycle runs, stdout goes to the log file; the CLI names the terminal's
file descriptor in ``SCO_GREEN_PROGRESS_FD`` so progress still reaches the person
watching. Updates are throttled so progress costs nothing measurable.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field

PROGRESS_FD_ENV = "SCO_GREEN_PROGRESS_FD"
BAR = 30


def _fd() -> int:
    value = os.environ.get(PROGRESS_FD_ENV)
    if value and value.isdigit():
        return int(value)
    try:
        return sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # a replaced stderr (test capture) has no fd
        return 2


@dataclass
class Progress:
    label: str
    total: int | None = None  # in the unit of ``done`` (bytes for loads), when known
    unit: str = "rows"
    interval_tty: float = 0.25
    interval_plain: float = 5.0
    started: float = field(default_factory=time.monotonic)
    last: float = 0.0
    fd: int = field(default_factory=_fd)

    def __post_init__(self) -> None:
        try:
            self.tty = os.isatty(self.fd)
        except OSError:
            self.tty = False

    def _write(self, text: str) -> None:
        try:
            os.write(self.fd, text.encode("utf-8", "replace"))
        except OSError:
            pass  # progress is never a reason to fail

    def update(self, rows: int, done: int | None = None) -> None:
        now = time.monotonic()
        if now - self.last < (self.interval_tty if self.tty else self.interval_plain):
            return
        self.last = now
        rate = rows / max(now - self.started, 1e-9)
        if self.tty and self.total and done is not None:
            share = min(done / self.total, 1.0)
            filled = int(share * BAR)
            bar = "#" * filled + "-" * (BAR - filled)
            self._write(f"\r  {self.label} [{bar}] {share:5.1%} {rows:,} {self.unit} {rate:,.0f}/s")
        elif self.tty:
            self._write(f"\r  {self.label} {rows:,} {self.unit} {rate:,.0f}/s")
        else:
            self._write(f"  {self.label}: {rows:,} {self.unit}, {rate:,.0f}/s\n")

    def finish(self, rows: int) -> None:
        seconds = max(time.monotonic() - self.started, 1e-9)
        end = "\r" if self.tty else ""
        self._write(
            f"{end}  {self.label}: {rows:,} {self.unit} in {seconds:.1f}s ({rows / seconds:,.0f}/s)" + " " * 8 + "\n"
        )
