"""Write-audit-publish for marts: dbt builds and tests in ``marts_build``; publishing
swaps it with ``marts`` in one transaction, so readers see yesterday's marts or
tonight's, never a mix, and a failed test leaves yesterday's in place.

After the swap ``marts_build`` holds the previous marts, which is what the next
night's build starts from.
"""

from __future__ import annotations

from psycopg import sql

from sco_green.roles import apply_published_schema_privileges
from sco_green.warehouse import connect

PUBLISHED = "marts"
BUILD = "marts_build"
MART_TABLES = (
    "fct_trade",
    "rpt_country_green_trade",
    "fct_recycling_tickets",
    "rpt_park_recycling_monthly",
    "dim_members",
    "rpt_alliance_members",
    "rpt_alliance_fields",
)


class PublishRefused(RuntimeError):
    """The build schema is not complete; nothing was swapped."""


def publication_count(url: str | None = None) -> int:
    """How many times marts were published on this warehouse: a build notes it when it begins."""
    with connect(url) as conn:
        return conn.execute("SELECT coalesce(max(publication_id), 0) FROM audit.marts_publications").fetchone()[0]


def publish_marts(url: str | None = None, *, built_after: int | None = None) -> list[str]:
    """Swap marts_build into marts. ``built_after``: the publication count when the build began;
    when another cycle published since, its marts stay and this build is refused (marts_build then
    holds what a failed build leaves, which the next build starts from)."""
    with connect(url) as conn, conn.transaction():
        built = {
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (BUILD,)
            ).fetchall()
        }
        missing = [t for t in MART_TABLES if t not in built]
        if missing:
            raise PublishRefused(f"{BUILD} lacks {', '.join(missing)}; marts left as they were")
        conn.execute("SELECT pg_advisory_xact_lock(7322002)")
        last = conn.execute("SELECT coalesce(max(publication_id), 0) FROM audit.marts_publications").fetchone()[0]
        if built_after is not None and last != built_after:
            raise PublishRefused(
                f"another cycle published marts (publication {last}) while this build ran; its marts stay"
            )
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(PUBLISHED)))
        conn.execute(sql.SQL("ALTER SCHEMA {} RENAME TO marts_swap").format(sql.Identifier(PUBLISHED)))
        conn.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(sql.Identifier(BUILD), sql.Identifier(PUBLISHED)))
        conn.execute(sql.SQL("ALTER SCHEMA marts_swap RENAME TO {}").format(sql.Identifier(BUILD)))
        apply_published_schema_privileges(conn)
        conn.execute("INSERT INTO audit.marts_publications DEFAULT VALUES")
    return list(MART_TABLES)


def mart_digests(url: str | None = None, schema: str = PUBLISHED) -> dict[str, str | None]:
    """An md5 of each mart's rows in a canonical order: two warehouses (or a full refresh and
    an incremental night) hold the same marts exactly when these are equal."""
    with connect(url) as conn:
        return {
            table: conn.execute(
                sql.SQL("SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM {}.{} t").format(
                    sql.Identifier(schema), sql.Identifier(table)
                )
            ).fetchone()[0]
            for table in MART_TABLES
        }
