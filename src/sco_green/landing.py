"""Land one CSV file into a per-load table: decode, check the header, stream rows with COPY.

The landing table is all text (validation decides what parses) and carries the CSV
record number as ``source_row``. Rows are re-serialised by the csv module and sent in
large chunks through ``COPY ... FROM STDIN (FORMAT csv)``, never row INSERTs, so memory
is bounded by the chunk size whatever the file size.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from sco_green.feeds import FeedSpec
from sco_green.progress import Progress

FLUSH_BYTES = 4 << 20
# A field longer than this is not a weighbridge ticket but an unterminated quote.
csv.field_size_limit(min(sys.maxsize, 16 << 20))


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
        raise FileRejected("header lacks required column(s): " + ", ".join(missing))
    return positions, extras


def _records(path: Path, encoding: str, progress: Progress | None = None) -> Iterator[list[str]]:
    """CSV records of the file; ``progress`` hears of the bytes read every 50,000 records."""
    with open(path, "rb") as raw, io.TextIOWrapper(raw, encoding=encoding, newline="") as handle:
        for n, record in enumerate(csv.reader(handle, strict=True)):
            if progress is not None and n and n % 50_000 == 0:
                progress.update(n, raw.tell())
            yield record


def land_file(
    conn: psycopg.Connection,
    spec: FeedSpec,
    path: Path,
    encoding: str,
    table: str,
) -> LandedFile:
    """Create ``table`` and COPY the file's records into it; raises FileRejected.

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
    extra_names = [f"x_{i + 1}" for i in range(len(extras))]
    column_defs = [sql.SQL("{} text").format(sql.Identifier(c)) for c in spec.column_names]
    column_defs += [sql.SQL("{} text").format(sql.Identifier(c)) for c in extra_names]
    conn.execute(
        sql.SQL(
            "CREATE UNLOGGED TABLE {} (source_row bigint PRIMARY KEY, {}, _ragged boolean NOT NULL, _overflow jsonb)"
        ).format(sql.Identifier(schema, name), sql.SQL(", ").join(column_defs))
    )
    # Order of cells sent to COPY: contract columns in header order, then extras.
    extra_iter = iter(extra_names)
    target = [p if p is not None else next(extra_iter) for p in positions]
    copy_cols = sql.SQL(", ").join(sql.Identifier(c) for c in ["source_row", *target, "_ragged", "_overflow"])
    copy_sql = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(sql.Identifier(schema, name), copy_cols)
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
