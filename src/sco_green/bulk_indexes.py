"""Build a raw table's indexes after a bulk insert instead of during it.

Inserting a large file into raw.<feed> while maintaining its primary key costs more than
inserting it into the bare table and building the index afterwards (one sorted build instead
of a descent per row). Doing that for a small nightly file would rebuild indexes over the
whole history, so it only happens when the insert at least doubles the table. Everything
runs in the caller's transaction: a failure restores the indexes with the rollback.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import psycopg
from psycopg import sql

# A sorted index build uses this much memory before spilling; it is a session setting
# reset at the end of the transaction.
BUILD_MEMORY = "256MB"


def worth_deferring(rows_now: int, rows_added: int) -> bool:
    """Rebuilding pays when the insert is at least as large as what the table holds."""
    return rows_added > 0 and rows_added >= rows_now


def _definitions(conn: psycopg.Connection, table: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(constraint name, definition) of index-backed constraints, (index name, definition) of the rest."""
    constraints = conn.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype IN ('p', 'u') ORDER BY conname",
        (table,),
    ).fetchall()
    indexes = conn.execute(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index AS i "
        "JOIN pg_class AS c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = %s::regclass AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint AS k WHERE k.conindid = i.indexrelid) ORDER BY c.relname",
        (table,),
    ).fetchall()
    return constraints, indexes


@contextlib.contextmanager
def indexes_built_after(conn: psycopg.Connection, schema: str, name: str, defer: bool) -> Iterator[None]:
    """Drop the table's indexes (and the constraints they back), run the body, build them again.

    With ``defer`` false the body runs against the indexed table, unchanged.
    """
    if not defer:
        yield
        return
    table = sql.Identifier(schema, name)
    constraints, indexes = _definitions(conn, f"{schema}.{name}")
    for index_name, _ in indexes:
        conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(schema, index_name)))
    for constraint, _ in constraints:
        conn.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(table, sql.Identifier(constraint)))
    yield
    conn.execute(sql.SQL("SET LOCAL maintenance_work_mem = {}").format(sql.Literal(BUILD_MEMORY)))
    for constraint, definition in constraints:
        add = sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}")
        conn.execute(add.format(table, sql.Identifier(constraint), sql.SQL(definition)))
    for _, definition in indexes:
        conn.execute(sql.SQL(definition))
