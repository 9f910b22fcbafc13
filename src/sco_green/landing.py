"""Land one CSV file into a per-load table: decode, check the header, stream rows with COPY.

The landing table is all text (validation decides what parses) and carries the CSV
record number as ``source_row``. Rows go through ``COPY ... FROM STDIN (FORMAT csv)``,
never row INSERTs, in chunks, so memory is bounded whatever the file size, in one of two
ways that land the same rows:

* plain files (no quote character, one line ending throughout, every line exactly as wide
  as the header: what a machine-written feed usually is) go to the server as they are after
  the header line, each line prefixed with its record number (``numbered_lines``); the
  server's CSV parser then reads each line as the record the csv module would have made of it.
* any other file is read by the csv module, which judges quoting, numbers records
  skipping blank lines, and pads or cuts ragged rows (``_ragged``, ``_overflow``), and is
  re-serialised for COPY.

The table is created in the transaction that fills it, so COPY writes its rows frozen: the
first query to read a freshly landed table would otherwise set hint bits on, and so rewrite,
every page of it.

``source_row`` has no index. Every reader of a landing table scans it whole (the rule
queries, the typed rows' cast), and the numbers are unique by construction (the lines' or
records' counters); raw tables' primary keys hold ``(load_id, source_row)`` again at publish.
Keeping a primary key up to date during COPY cost a third of the landing; its one user was the
quarantine's join, which hashes the failing rows and scans the table once instead.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import psycopg
import pyarrow as pa
from psycopg import sql

from expectations.rules import SCREENED
from expectations.screens import RecordScreen, lines_of
from sco_green.feeds import FeedSpec
from sco_green.progress import Progress

FLUSH_BYTES = 4 << 20
READ_BYTES = 4 << 20
# A plain file is numbered a megabyte at a time: numbering takes a few arrays the size of the
# piece, and smaller pieces keep that memory small and the same whatever the file's size.
NUMBER_BYTES = 1 << 20
SCREEN_BYTES = 8 << 20
# The server's names for the encodings decode.py accepts.
SERVER_ENCODINGS = {"utf-8": "UTF8", "utf-8-sig": "UTF8", "gb18030": "GB18030"}
# The largest field the csv module reads: a longer cell in a quoted file rejects the file (the
# reader cannot resume inside a field), and memory stays bounded by it. A cell up to this size
# lands as text and breaks its column's rule, as the same cell does in a plain file, which the
# server reads up to its own 1 GB limit.
MAX_FIELD_BYTES = 256 << 20
csv.field_size_limit(min(sys.maxsize, MAX_FIELD_BYTES))
# Encodings Arrow reads as they are (its strings are UTF-8): only these files are screened.
SCREENED_ENCODINGS = ("utf-8", "utf-8-sig")

log = logging.getLogger(__name__)


# A PostgreSQL table holds at most 1600 columns. A header with more extra columns than this
# lands them as one jsonb object per row (``_extras``, keyed as the quarantine's raw cells)
# instead of a text column each, so a very wide file still loads.
MAX_EXTRA_COLUMNS = 1000


def raw_keys(header: list[str]) -> list[str]:
    """The key of each header position in a row's raw cells: its name, or name#2, name#3 when
    the header repeats it."""
    used: set[str] = set()
    keys = []
    for raw_name in header:
        key, n = raw_name, 2
        while key in used:
            key, n = f"{raw_name}#{n}", n + 1
        used.add(key)
        keys.append(key)
    return keys


def extras_as_json(extras: list[str]) -> bool:
    return len(extras) > MAX_EXTRA_COLUMNS


class FileRejected(Exception):
    """The file as a whole cannot be loaded (header, encoding, CSV syntax)."""


@dataclass
class LandedFile:
    table: str  # schema-qualified landing table
    rows_in: int
    header: list[str]
    extra_columns: list[str] = field(default_factory=list)


def landing_table(feed: str, load_id: int) -> str:
    return f"landing.{feed}_{load_id}"


def _normalise(name: str) -> str:
    return name.strip().lower()


def map_header(spec: FeedSpec, header: list[str]) -> tuple[list[str | None], list[str]]:
    """For each header position, the contract column it feeds (None for extras), and the extras.

    Header names are matched ignoring case and surrounding spaces. A missing contract
    column, or a contract column named twice, rejects the file.
    """
    wanted = set(spec.column_names)
    positions: list[str | None] = []
    seen: set[str] = set()
    extras: list[str] = []
    for raw in header:
        name = _normalise(raw)
        if name in wanted:
            if name in seen:
                raise FileRejected(f"column {name!r} appears twice in the header")
            seen.add(name)
            positions.append(name)
        else:
            positions.append(None)
            extras.append(raw)
    missing = [c for c in spec.column_names if c not in seen]
    if missing:
        raise FileRejected(_delimiter_hint(spec, header) or "header lacks required column(s): " + ", ".join(missing))
    return positions, extras


OTHER_DELIMITERS = {";": "semicolon", "\t": "tab", "|": "pipe"}


def _delimiter_hint(spec: FeedSpec, header: list[str]) -> str | None:
    """When the header is the feed's columns split by another delimiter, say so: a file saved with
    a regional list separator would otherwise read as lacking every column."""
    joined = ",".join(header)
    for delimiter, name in OTHER_DELIMITERS.items():
        names = {_normalise(n) for n in joined.split(delimiter)}
        if delimiter in joined and len(names & set(spec.column_names)) >= 2:
            return (
                f"the header looks {name}-delimited ({delimiter!r}); the contract wants comma-separated CSV:"
                " re-save the file with ',' as the delimiter"
            )
    return None


def _records(path: Path, encoding: str, progress: Progress | None = None) -> Iterator[list[str]]:
    """CSV records of the file; ``progress`` hears of the bytes read every 50,000 records."""
    with open(path, "rb") as raw, io.TextIOWrapper(raw, encoding=encoding, newline="") as handle:
        for n, record in enumerate(csv.reader(handle, strict=True)):
            if progress is not None and n and n % 50_000 == 0:
                progress.update(n, raw.tell())
            yield record


def plain_records(path: Path, width: int) -> int | None:
    """The number of records after the header when the file is plain, else None.

    Plain: no quote character (so a record is a line and every comma separates two fields),
    one line ending throughout (every line ends in LF, or every line in CR LF: the server
    wants them alike), and every line, the last one with or without its ending, has exactly
    ``width - 1`` commas. A blank line or a ragged row is therefore not plain. One vectorised
    pass over the bytes: about a tenth of the csv module's time.
    """
    if width < 2:
        return None
    lines = carriage_returns = 0
    tail = 0  # commas after the last LF read so far
    open_line = False  # bytes after the last LF read so far
    pending_cr = False  # the previous chunk ended in CR: this one must start with LF
    with open(path, "rb") as handle:
        while chunk := handle.read(READ_BYTES):
            if b'"' in chunk:
                return None
            data = np.frombuffer(chunk, np.uint8)
            if pending_cr and data[0] != 10:
                return None
            crs = np.flatnonzero(data == 13)
            if len(crs):
                pending_cr = int(crs[-1]) == len(data) - 1
                inside = crs[:-1] if pending_cr else crs
                if (data[inside + 1] != 10).any():
                    return None  # a CR that does not end a line
                carriage_returns += len(crs)
            else:
                pending_cr = False
            newlines = np.flatnonzero(data == 10)
            commas = np.flatnonzero(data == 44)
            if len(newlines) == 0:
                tail += len(commas)
                open_line = True
                continue
            before = np.searchsorted(commas, newlines)
            per_line = np.diff(before, prepend=0)
            per_line[0] += tail
            if (per_line != width - 1).any():
                return None
            lines += len(newlines)
            tail = len(commas) - int(before[-1])
            open_line = int(newlines[-1]) < len(data) - 1
    if pending_cr or carriage_returns not in (0, lines):
        return None
    if open_line:
        if tail != width - 1:
            return None
        lines += 1
    return lines - 1 if lines else None


def line_starts(data: bytes | memoryview) -> np.ndarray:
    """Where each line of ``data`` (complete lines, but the last may lack its ending) starts."""
    ends = np.flatnonzero(np.frombuffer(data, np.uint8) == 10)
    starts = np.concatenate(([0], ends + 1))
    return starts[:-1] if starts[-1] == len(data) else starts


def numbered_lines(
    data: bytes | memoryview,
    first: int,
    width: int,
    flags: np.ndarray | None = None,
    starts: np.ndarray | None = None,
) -> bytes:
    """Each line of ``data`` (complete lines, but the last may lack its ending) prefixed with its
    number, from ``first``, zero-padded to ``width`` digits, and a comma; with ``flags`` (one
    per line), then ``t,`` or ``f,``. ``starts``: the lines' ``line_starts``, when known.

    The server numbering rows itself (a column default) took a third of a plain file's landing;
    here it is a few vectorised passes over the chunk.
    """
    chunk = np.frombuffer(data, np.uint8)
    if starts is None:
        starts = line_starts(data)
    numbers = np.arange(first, first + len(starts), dtype=np.int64)
    size = width + 1 if flags is None else width + 3
    prefixes = np.empty((len(starts), size), np.uint8)
    for place in range(width):
        prefixes[:, width - 1 - place] = ord("0") + (numbers // 10**place) % 10
    prefixes[:, width] = ord(",")
    if flags is not None:
        prefixes[:, width + 1] = np.where(flags, ord("t"), ord("f"))
        prefixes[:, width + 2] = ord(",")
    return np.insert(chunk, np.repeat(starts, size), prefixes.ravel()).tobytes()


def line_pieces(handle: BinaryIO, size: int) -> Iterator[bytes]:
    """The rest of the file in pieces of about ``size`` bytes, each ending at a line's end
    (the last one perhaps without it)."""
    rest = b""
    while chunk := handle.read(size):
        data = rest + chunk
        cut = data.rfind(b"\n") + 1
        if cut:
            yield data[:cut]
        rest = data[cut:]
    if rest:
        yield rest


def _copy_plain(
    conn: psycopg.Connection,
    path: Path,
    copy_sql: sql.Composed,
    progress: Progress,
    records: int,
    screen: LineScreen | None,
) -> None:
    """Send the file's lines after the header to COPY, numbered (and flagged by the screen, if
    any); the server must have read exactly the records the check counted, or nothing is landed.

    The file is read SCREEN_BYTES at a time and its lines found once: the screen takes them all
    in one call (a few Arrow kernels, whose cost is mostly per call), and numbering then takes
    them NUMBER_BYTES at a time.
    """
    size = max(path.stat().st_size, 1)
    width = len(str(records))
    number = 1
    with open(path, "rb") as handle, conn.cursor() as cur:
        with cur.copy(copy_sql) as copy:
            sent = len(handle.readline())  # the header (a BOM, if any, is in it)
            for block, starts, flags in screened_blocks(handle, screen):
                ends = np.append(starts[1:], len(block))
                for first, stop in _numbering_spans(starts, len(block)):
                    begin = starts[first]
                    copy.write(
                        numbered_lines(
                            memoryview(block)[begin : ends[stop - 1]],
                            number + first,
                            width,
                            None if flags is None else flags[first:stop],
                            starts[first:stop] - begin,
                        )
                    )
                number += len(starts)
                # Counted from the blocks sent: the file's position is a block ahead, being screened.
                sent += len(block)
                progress.update(records * sent // size, sent)
        if cur.rowcount != records:
            raise RuntimeError(f"{path.name}: the server read {cur.rowcount} records where {records} were counted")


def screened_blocks(
    handle: BinaryIO, screen: LineScreen | None
) -> Iterator[tuple[bytes, np.ndarray, np.ndarray | None]]:
    """The rest of the file SCREEN_BYTES of lines at a time, each block with its ``line_starts``
    and, with a screen, its flags.

    The next block is screened in a second thread while the caller numbers and sends this one:
    Arrow's kernels release the GIL, so the screen runs beside the numbering and the server's
    COPY instead of pausing both for each block. One block is screened ahead, no more, so memory
    stays two blocks whatever the file's size.
    """
    if screen is None:
        for block in line_pieces(handle, SCREEN_BYTES):
            yield block, line_starts(block), None
        return

    def screened(block: bytes) -> tuple[bytes, np.ndarray, np.ndarray]:
        starts = line_starts(block)
        return block, starts, screen.flags(block, starts)

    with ThreadPoolExecutor(1, thread_name_prefix="screen") as pool:
        ahead: Future[tuple[bytes, np.ndarray, np.ndarray]] | None = None
        for block in line_pieces(handle, SCREEN_BYTES):
            following = pool.submit(screened, block)
            if ahead is not None:
                yield ahead.result()
            ahead = following
        if ahead is not None:
            yield ahead.result()


def _numbering_spans(starts: np.ndarray, size: int) -> Iterator[tuple[int, int]]:
    """(first line, line after the last) of consecutive pieces of about NUMBER_BYTES each, over
    lines starting at ``starts`` in ``size`` bytes; a longer line is a piece of its own."""
    cuts = np.searchsorted(starts, np.arange(NUMBER_BYTES, size, NUMBER_BYTES))
    bounds = np.unique(np.concatenate(([0], cuts, [len(starts)])))
    return zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)


@dataclass(frozen=True)
class LineScreen:
    """A feed's record screen (expectations/screens.py) for a plain file's header."""

    screen: RecordScreen
    columns: list[str | None]  # per header position: the contract column, or None for an extra

    def flags(self, data: bytes, starts: np.ndarray) -> np.ndarray:
        """For each line of ``data`` (starting at ``starts``), whether the screen cleared it; none
        when Arrow fails on the lines (the screen only spares the rules' SQL work, so their SQL
        then checks them all)."""
        try:
            return self.screen.cleared(self.columns, lines_of(data, starts))
        except pa.ArrowException:
            log.warning("%d lines could not be screened: the rules check each of them", len(starts), exc_info=True)
            return np.zeros(len(starts), bool)


def land_file(
    conn: psycopg.Connection,
    spec: FeedSpec,
    path: Path,
    encoding: str,
    table: str,
    screen: RecordScreen | None = None,
) -> LandedFile:
    """Create ``table`` and COPY the file's records into it; raises FileRejected.

    ``screen``, the feed's row screen, flags the rows of a plain UTF-8 file it clears of every
    row-level rule (SCREENED); other rows, and every row of any other file, stay unflagged.
    The caller owns the transaction: a failure part-way leaves nothing behind.
    """
    progress = Progress(f"land {path.name}", total=path.stat().st_size)
    records = _records(path, encoding, progress)
    try:
        header = next(records, None)
    except (csv.Error, UnicodeDecodeError) as exc:
        raise FileRejected(f"CSV header unreadable: {exc}") from exc
    if header is None:
        raise FileRejected("file is empty: no header row")
    positions, extras = map_header(spec, header)
    width = len(header)
    schema, name = table.split(".")
    wide = extras_as_json(extras)
    extra_names = [] if wide else [f"x_{i + 1}" for i in range(len(extras))]
    column_defs = [sql.SQL("{} text").format(sql.Identifier(c)) for c in spec.column_names]
    column_defs += [sql.SQL("{} text").format(sql.Identifier(c)) for c in extra_names]
    if wide:
        column_defs.append(sql.SQL("_extras jsonb"))
    conn.execute(
        sql.SQL(
            "CREATE UNLOGGED TABLE {} (source_row bigint NOT NULL, {},"
            " _ragged boolean NOT NULL DEFAULT false, _overflow jsonb, {} boolean NOT NULL DEFAULT false)"
        ).format(sql.Identifier(schema, name), sql.SQL(", ").join(column_defs), sql.Identifier(SCREENED))
    )
    # Order of cells sent to COPY: contract columns in header order, then extras (or their object).
    if wide:
        target = [p for p in positions if p is not None]
        keys = raw_keys(header)
        extra_keys = [(i, keys[i]) for i, p in enumerate(positions) if p is None]
        contract_at = [i for i, p in enumerate(positions) if p is not None]
    else:
        extra_iter = iter(extra_names)
        target = [p if p is not None else next(extra_iter) for p in positions]
    plain = None if wide else plain_records(path, width)
    if plain is not None:
        records.close()
        lines = None
        if screen is not None and encoding in SCREENED_ENCODINGS:
            lines = LineScreen(screen, positions)
        copy_sql = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv, FREEZE, ENCODING {})").format(
            sql.Identifier(schema, name),
            sql.SQL(", ").join(sql.Identifier(c) for c in ["source_row", *([SCREENED] if lines else []), *target]),
            sql.Literal(SERVER_ENCODINGS[encoding]),
        )
        _copy_plain(conn, path, copy_sql, progress, plain, lines)
        progress.finish(plain)
        return LandedFile(table=table, rows_in=plain, header=header, extra_columns=extras)
    copy_cols = sql.SQL(", ").join(
        sql.Identifier(c) for c in ["source_row", *target, "_ragged", "_overflow", *(["_extras"] if wide else [])]
    )
    copy_sql = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv, FREEZE)").format(sql.Identifier(schema, name), copy_cols)
    rows = 0
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    with conn.cursor() as cur, cur.copy(copy_sql) as copy:
        try:
            for record in records:
                if not record or record == [""] and width > 1:
                    continue  # a blank line is not a record
                rows += 1
                ragged = len(record) != width
                overflow = None
                if ragged:
                    if len(record) > width:
                        overflow = json.dumps(record[width:], ensure_ascii=False)
                        record = record[:width]
                    else:
                        record = record + [""] * (width - len(record))
                if wide:
                    cells = {key: record[i] or None for i, key in extra_keys}
                    extras_cell = json.dumps(cells, ensure_ascii=False)
                    writer.writerow(
                        [rows, *(record[i] for i in contract_at), "t" if ragged else "f", overflow, extras_cell]
                    )
                else:
                    writer.writerow([rows, *record, "t" if ragged else "f", overflow])
                if buffer.tell() >= FLUSH_BYTES:
                    copy.write(buffer.getvalue())
                    buffer.seek(0)
                    buffer.truncate()
        except csv.Error as exc:
            raise FileRejected(f"CSV syntax error in record {rows + 1}: {exc}") from exc
        except UnicodeDecodeError as exc:
            raise FileRejected(f"undecodable bytes near record {rows + 1}: {exc.reason}") from exc
        if buffer.tell():
            copy.write(buffer.getvalue())
    progress.finish(rows)
    return LandedFile(table=table, rows_in=rows, header=header, extra_columns=extras)
