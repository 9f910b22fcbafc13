"""Record screens: which lines of a plain file certainly break none of its feed's row rules.

The row rules' SQL predicates stay the one word on whether a row breaks a rule. A screen is a
stricter, cheaper reading of all of them together: the usual shape of a record (one pattern per
column, joined into one pattern per line, which RE2 matches in a single pass) and a few checks
across columns on the fields split from the lines. Landing flags the lines a screen clears;
validation runs the row rules' SQL only on the others. A screen can therefore make validation
faster but never change what it finds: a line it wrongly doubts is checked in SQL as before,
and ``tests/integration/test_screens.py`` holds each screen to the rules on edge values (a
screen clearing a row that a rule breaks fails there).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Field patterns (RE2, without anchors or the comma). No pattern may match a comma, CR or LF.
ANY = r"[^,\r\n]*"
GIVEN = r"[^,\r\n]+"
# No line longer is cleared, so no cleared field exceeds sco_util.is_decimal's 16,383 characters.
LONGEST_LINE = 16383
# An unsigned plain decimal: its value is >= 0 whatever it says (is_decimal also takes a sign).
UNSIGNED_DECIMAL = r"[0-9]+(\.[0-9]+)?"
# A figure double precision holds to within 1e-4: at most 12 integer and 6 fraction digits.
SMALL_DECIMAL = r"[0-9]{1,12}(\.[0-9]{1,6})?"
# The usual timestamp form only (what is_timestamptz checks first), with a day that its month
# always has: years 1000-9999, and the 29th of February left to SQL (it depends on the year).
_DAY = r"((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)|02-(0[1-9]|1[0-9]|2[0-8]))"
USUAL_TIMESTAMP = (
    r"[1-9][0-9]{3}-" + _DAY + r"T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](Z|[+-](0[0-9]|1[0-5]):[0-5][0-9])"
)

Fields = Mapping[str, pa.Array]  # one column's fields of the lines, NULL where empty


def one_of(values: Sequence[str] | set[str] | frozenset[str]) -> str:
    """A field that is exactly one of the values (never empty; none may hold a regex character)."""
    escaped = sorted(v for v in values if v)
    if any(not v.replace("_", "").replace("-", "").isalnum() for v in escaped):
        raise ValueError("screen sets hold plain words only")
    return "(" + "|".join(escaped) + ")"


def optional(pattern: str) -> str:
    return f"({pattern})?"


@dataclass(frozen=True)
class Across:
    """A check across columns, on the lines whose every field already has its usual shape:
    True where the row surely passes."""

    columns: tuple[str, ...]
    check: Callable[[Fields], pa.Array]


@dataclass(frozen=True)
class RecordScreen:
    """The usual record of a feed: each contract column's field pattern (a column without one is
    any text) and the checks across columns."""

    fields: Mapping[str, str]
    across: tuple[Across, ...] = field(default=())

    def line_pattern(self, columns: Sequence[str | None]) -> str:
        """The pattern of a whole line, for the header's columns in order (None: an extra)."""
        cells = [self.fields.get(c, ANY) if c is not None else ANY for c in columns]
        return "^" + ",".join(f"(?:{cell})" for cell in cells) + r"\r?\n?$"

    def cleared(self, columns: Sequence[str | None], lines: pa.Array) -> np.ndarray:
        """For each line (with its ending, if any), whether it surely breaks no row rule."""
        ok = pc.fill_null(pc.match_substring_regex(lines, self.line_pattern(columns)), False)
        ok = pc.and_(ok, pc.less_equal(pc.binary_length(lines), LONGEST_LINE))
        wanted = {c for a in self.across for c in a.columns}
        if wanted:
            # Lines of another shape are checked in SQL; a line of empty fields stands in for them.
            blank = "," * (len(columns) - 1)
            last = max(columns.index(c) for c in wanted)
            usual = pc.if_else(ok, lines, pa.scalar(blank, lines.type))
            fields = pc.split_pattern(usual, ",", max_splits=last + 1)  # no further than needed
            values = {c: _field(fields, columns.index(c), len(columns)) for c in wanted}
            for across in self.across:
                ok = pc.and_(ok, pc.fill_null(across.check(values), False))
        return ok.to_numpy(zero_copy_only=False)


def _field(fields: pa.Array, position: int, width: int) -> pa.Array:
    """One column of the split lines, NULL where empty (the last one without its line ending)."""
    values = pc.list_element(fields, position)
    if position == width - 1:
        values = pc.utf8_rtrim(values, characters="\r\n")
    return pc.if_else(pc.equal(values, ""), pa.scalar(None, values.type), values)


def lines_of(data: bytes, starts: np.ndarray) -> pa.Array:
    """The lines of ``data`` as an Arrow string array over the same bytes (no copy)."""
    offsets = np.append(starts, len(data)).astype(np.int64)
    return pa.Array.from_buffers(pa.large_string(), len(starts), [None, pa.py_buffer(offsets), pa.py_buffer(data)])


_INSTANT = pa.timestamp("s", tz="UTC")


def instants(values: pa.Array) -> pa.Array:
    """Timestamps in USUAL_TIMESTAMP's form as instants (NULL stays NULL)."""
    return pc.cast(values, _INSTANT)


def decimals(values: pa.Array) -> pa.Array:
    """SMALL_DECIMAL figures as double precision (NULL stays NULL)."""
    return pc.cast(values, pa.float64())
