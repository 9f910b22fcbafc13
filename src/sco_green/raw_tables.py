"""raw.<feed>: one table per feed, partitioned by load, that validation's typed rows join.

Each raw table is partitioned by range of ``load_id``. A large load becomes a partition of its
own: validation already wrote its rows, typed and logged, in one statement that parallel
workers computed, so publishing only checks them against raw's constraints, builds the primary
key in one sorted pass and attaches the table, instead of inserting every row again, serially,
into indexed storage. Smaller loads are inserted into the default partition, ``raw.<feed>_rows``,
so the number of partitions (and of locks a query over all of raw takes) grows only with the
large loads.

Readers see one table either way: ``raw.<feed>`` holds every current row, whatever partition
it is in.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from sco_green.feeds import FEEDS, FeedSpec

# A load of at least this many rows becomes a partition of its own.
OWN_PARTITION_ROWS = 100_000
# A sorted index build uses this much memory before spilling; reset at the end of the transaction.
BUILD_MEMORY = "256MB"


def default_partition(spec: FeedSpec) -> str:
    return f"{spec.name}_rows"


def load_partition(spec: FeedSpec, load_id: int) -> str:
    return f"{spec.name}_load_{load_id}"


def _parent_ddl(spec: FeedSpec, *, if_not_exists: bool) -> str:
    """raw.<feed> itself, partitioned by load, without partitions."""
    cols = ",\n    ".join(f"{c.name} {c.sql_type}" for c in spec.columns)
    return (
        f"CREATE TABLE {'IF NOT EXISTS ' if if_not_exists else ''}raw.{spec.name} (\n"
        "    load_id bigint NOT NULL,\n    file_name text NOT NULL,\n"
        f"    source_row bigint NOT NULL,\n    {cols},\n    PRIMARY KEY (load_id, source_row)\n"
        ") PARTITION BY RANGE (load_id);"
    )


def raw_table_ddl() -> str:
    """Every raw table, partitioned, with its default partition (for bootstrap: idempotent)."""
    statements = []
    for spec in FEEDS.values():
        statements.append(
            _parent_ddl(spec, if_not_exists=True)
            + f"\nCREATE TABLE IF NOT EXISTS raw.{default_partition(spec)} PARTITION OF raw.{spec.name} DEFAULT;"
        )
    return "\n".join(statements)


def partition_unpartitioned(conn: psycopg.Connection) -> None:
    """A raw table from before partitioning becomes the default partition of a partitioned one,
    its rows and primary key kept as they are (a rename and an attach: nothing is copied)."""
    for spec in FEEDS.values():
        kind = conn.execute(
            "SELECT c.relkind FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'raw' AND c.relname = %s",
            (spec.name,),
        ).fetchone()
        if kind is None or kind[0] != "r":
            continue
        rows = default_partition(spec)
        conn.execute(sql.SQL("ALTER TABLE raw.{} RENAME TO {}").format(sql.Identifier(spec.name), sql.Identifier(rows)))
        conn.execute(
            sql.SQL("ALTER INDEX IF EXISTS raw.{} RENAME TO {}").format(
                sql.Identifier(f"{spec.name}_pkey"), sql.Identifier(f"{rows}_pkey")
            )
        )
        conn.execute(
            _parent_ddl(spec, if_not_exists=False)
            + f"\nALTER TABLE raw.{spec.name} ATTACH PARTITION raw.{rows} DEFAULT;"
        )


def publish_typed(conn: psycopg.Connection, spec: FeedSpec, load_id: int, typed: str, rows: int) -> int:
    """Put a load's typed rows into raw.<feed>, in the caller's transaction; returns the rows added.

    ``typed`` (schema-qualified) holds the rows in raw's columns; it is attached as the load's
    partition when the load is large, else its rows are inserted and it is left to be dropped.
    """
    if rows < OWN_PARTITION_ROWS:
        return conn.execute(
            sql.SQL("INSERT INTO {} SELECT * FROM {}").format(
                sql.Identifier("raw", spec.name), sql.Identifier(*typed.split("."))
            )
        ).rowcount
    _attach(conn, spec, load_id, typed)
    return rows


def _attach(conn: psycopg.Connection, spec: FeedSpec, load_id: int, typed: str) -> None:
    """The typed table as raw.<feed>_load_<id>: raw's NOT NULLs and a check that proves the
    partition's bound (one scan for both, so attaching scans nothing), the primary key built
    once, sorted, then attached."""
    name = load_partition(spec, load_id)
    table = sql.Identifier(*typed.split("."))
    not_null = conn.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 AND attnotnull "
        "AND NOT attisdropped ORDER BY attnum",
        (f"raw.{spec.name}",),
    ).fetchall()
    changes = [sql.SQL("ALTER {} SET NOT NULL").format(sql.Identifier(column)) for (column,) in not_null]
    changes.append(
        sql.SQL("ADD CONSTRAINT {} CHECK (load_id >= {} AND load_id < {})").format(
            sql.Identifier(f"{name}_bound"), sql.Literal(load_id), sql.Literal(load_id + 1)
        )
    )
    conn.execute(sql.SQL("ALTER TABLE {} {}").format(table, sql.SQL(", ").join(changes)))
    conn.execute(sql.SQL("SET LOCAL maintenance_work_mem = {}").format(sql.Literal(BUILD_MEMORY)))
    conn.execute(
        sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY (load_id, source_row)").format(
            table, sql.Identifier(f"{name}_pkey")
        )
    )
    conn.execute(sql.SQL("ALTER TABLE {} SET SCHEMA raw").format(table))
    moved = sql.Identifier("raw", typed.split(".")[1])
    conn.execute(sql.SQL("ALTER TABLE {} RENAME TO {}").format(moved, sql.Identifier(name)))
    conn.execute(
        sql.SQL("ALTER TABLE {} ATTACH PARTITION {} FOR VALUES FROM ({}) TO ({})").format(
            sql.Identifier("raw", spec.name),
            sql.Identifier("raw", name),
            sql.Literal(load_id),
            sql.Literal(load_id + 1),
        )
    )


def remove_loads(conn: psycopg.Connection, spec: FeedSpec, load_ids: list[int]) -> None:
    """The rows of these loads leave raw.<feed>: a load's own partition is dropped whole, rows in
    the default partition are deleted."""
    owned = conn.execute(
        "SELECT c.relname FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = %s::regclass AND c.relname = ANY(%s)",
        (f"raw.{spec.name}", [load_partition(spec, load_id) for load_id in load_ids]),
    ).fetchall()
    for (name,) in owned:
        conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier("raw", name)))
    conn.execute(
        sql.SQL("DELETE FROM {} WHERE load_id = ANY(%s)").format(sql.Identifier("raw", spec.name)), (load_ids,)
    )
