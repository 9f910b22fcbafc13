"""What to do with each file in the inbox, decided against the load ledger.

Pure functions over ledger history so the decisions (CONTRACT.md section 2) are unit
tested without a database:

* same name and same bytes as a ledger row: skip, no new ledger row;
* same bytes under another name: ``duplicate``, loads nothing; bytes the ledger only ever
  ``rejected`` never entered the warehouse, so under a new name they are judged afresh
  (a snapshot rejected for a name without a real date loads once renamed; bytes rejected
  for their encoding or header are rejected again, with that reason);
* same name, new bytes: a corrected re-drop, loaded; earlier versions become ``superseded``;
* otherwise: a new file, loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import psycopg

# Versions of a name that a corrected re-drop replaces (duplicates never loaded anything,
# superseded ones are gone already).
_REPLACEABLE = ("loaded", "blocked", "rejected")


class Action(StrEnum):
    SKIP = "skip"
    DUPLICATE = "duplicate"
    LOAD = "load"


@dataclass(frozen=True)
class LedgerRow:
    load_id: int
    file_name: str
    sha256: str
    status: str


@dataclass(frozen=True)
class Decision:
    file_name: str
    sha256: str
    action: Action
    duplicate_of: str | None = None  # name of the file that brought these bytes first
    supersedes: tuple[int, ...] = ()


def decide(
    files: list[tuple[str, str]], history: list[LedgerRow], rejected: frozenset[str] = frozenset()
) -> list[Decision]:
    """Decide for ``files`` (name, sha256), taken in name order, given the feed's ledger.

    Files decided earlier in the same batch count as history for later ones, so two
    identical files dropped together load once. ``rejected`` names the files already known
    to be rejected whatever the ledger says (by their name or encoding): they count as
    rejected, so the same bytes under a later name in the batch are judged afresh.
    """
    known = list(history)
    decisions: list[Decision] = []
    pending_id = -1
    for name, sha in sorted(files):
        if any(r.file_name == name and r.sha256 == sha for r in known):
            decisions.append(Decision(name, sha, Action.SKIP))
            continue
        same_bytes = [r for r in known if r.sha256 == sha and r.status != "rejected"]
        if same_bytes:
            decisions.append(Decision(name, sha, Action.DUPLICATE, duplicate_of=same_bytes[0].file_name))
            known.append(LedgerRow(pending_id, name, sha, "duplicate"))
        else:
            older = tuple(
                r.load_id for r in known if r.file_name == name and r.status in _REPLACEABLE and r.load_id > 0
            )
            decisions.append(Decision(name, sha, Action.LOAD, supersedes=older))
            known = [
                LedgerRow(r.load_id, r.file_name, r.sha256, "superseded") if r.load_id in older else r for r in known
            ]
            known.append(LedgerRow(pending_id, name, sha, "rejected" if name in rejected else "loaded"))
        pending_id -= 1
    return decisions


def history(conn: psycopg.Connection, feed: str) -> list[LedgerRow]:
    rows = conn.execute(
        "SELECT load_id, file_name, sha256, status FROM audit.load_ledger WHERE feed = %s ORDER BY load_id",
        (feed,),
    ).fetchall()
    return [LedgerRow(*row) for row in rows]
