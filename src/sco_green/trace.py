"""``sco-green trace FIGURE_ID``: the evidence behind one figure of a published report.

For the figure as the latest release of its year stated it (or release ``--release N``): its
value, the files it was computed from (name, sha256, load id, status now), the rows of each file
that stand behind the figure in the marts today, and how many rows of those files were
quarantined, by rule. It reads the warehouse as the auditor role.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from sco_green.roles import AUDITOR
from sco_green.warehouse import connect

# The rows behind a figure, per source file, by the figure's family (its id's first part); a members
# figure stands on every row its snapshot loaded.
ROWS_BEHIND = {
    "trade": (
        "SELECT source_file, count(*) FROM marts.fct_trade WHERE year = %(year)s AND green_category IS NOT NULL"
        " AND flow = ANY(%(flows)s) AND (%(who)s = 'SCO' OR reporter_iso3 = %(who)s) GROUP BY 1"
    ),
    "recycling": (
        "SELECT source_file, count(*) FROM marts.fct_recycling_tickets WHERE extract(year FROM local_month) = %(year)s"
        " AND (%(who)s = 'ALL' OR (park_id = %(who)s AND segment = %(segment)s))"
        " AND (%(measure)s <> 'hazardous_t' OR hw_code IS NOT NULL)"
        " AND direction = CASE %(measure)s WHEN 'outbound_t' THEN 'OUT' WHEN 'inbound_t' THEN 'IN' ELSE direction END"
        " GROUP BY 1"
    ),
}
FLOWS = {"exports_usd": ["X"], "imports_usd": ["M"], "intra_sco_exports_usd": ["X"]}


class FigureNotFound(LookupError):
    """No release states that figure."""


@dataclass
class FileEvidence:
    file_name: str
    sha256: str
    load_id: int
    status: str
    rows_behind: int
    rows_quarantined: dict[str, int] = field(default_factory=dict)


@dataclass
class Trace:
    figure_id: str
    release_id: int
    label: str
    value: str
    unit: str
    files: list[FileEvidence]


def _parameters(figure_id: str, load_ids: list[int]) -> dict[str, Any]:
    family, measure, *who, year = figure_id.split(".")
    return {
        "family": family,
        "measure": measure,
        "who": who[0],
        "segment": who[1] if len(who) > 1 else None,
        "year": int(year),
        "flows": FLOWS.get(measure, ["X", "M"]),
        "loads": load_ids,
    }


def trace(figure_id: str, release: int | None = None, url: str | None = None) -> Trace:
    with connect(url) as conn:
        conn.execute(f"SET ROLE {AUDITOR}")  # an auditor's view: audit and marts, read-only
        if release is None:
            row = conn.execute(
                "SELECT release_id, label, value, unit, load_ids FROM audit.report_figures WHERE figure_id = %s"
                " ORDER BY release_id DESC LIMIT 1",
                (figure_id,),
            ).fetchone()
        else:
            row = conn.execute(
                "SELECT release_id, label, value, unit, load_ids FROM audit.report_figures"
                " WHERE figure_id = %s AND release_id = %s",
                (figure_id, release),
            ).fetchone()
        if row is None:
            where = f"release {release}" if release is not None else "any release"
            raise FigureNotFound(f"{figure_id} is not a figure of {where} (publish one with report --publish)")
        release_id, label, value, unit, load_ids = row
        params = _parameters(figure_id, load_ids)
        behind: dict[str, int] = {}
        if params["family"] in ROWS_BEHIND:
            behind = dict(conn.execute(ROWS_BEHIND[params["family"]], params).fetchall())
        ledger = conn.execute(
            "SELECT load_id, file_name, sha256, status, rows_loaded FROM audit.load_ledger"
            " WHERE load_id = ANY(%s) ORDER BY load_id",
            (load_ids,),
        ).fetchall()
        quarantined: dict[int, dict[str, int]] = {}
        for load_id, rule, n in conn.execute(
            "SELECT load_id, rule, count(*) FROM audit.quarantine, unnest(rules) AS rule"
            " WHERE load_id = ANY(%s) GROUP BY 1, 2 ORDER BY 1, 2",
            (load_ids,),
        ):
            quarantined.setdefault(load_id, {})[rule] = n
    files = [
        FileEvidence(
            name,
            sha,
            load_id,
            status,
            rows_loaded if params["family"] == "members" else behind.get(name, 0),
            quarantined.get(load_id, {}),
        )
        for load_id, name, sha, status, rows_loaded in ledger
    ]
    return Trace(figure_id, release_id, label, str(value), unit, files)


def as_text(t: Trace) -> str:
    lines = [f"{t.figure_id} = {t.value} {t.unit}  ({t.label}; release {t.release_id})"]
    for f in t.files:
        lines.append(f"  load {f.load_id}  {f.file_name}  sha256 {f.sha256}  [{f.status}]")
        lines.append(f"    rows behind the figure: {f.rows_behind}")
        rules = ", ".join(f"{rule} {n}" for rule, n in f.rows_quarantined.items()) or "none"
        lines.append(f"    rows quarantined: {sum(f.rows_quarantined.values())} ({rules})")
    return "\n".join(lines)


def as_json(t: Trace) -> str:
    return json.dumps(asdict(t), ensure_ascii=False, indent=2)
