"""The warehouse roles of CONTRACT.md section 7, created and granted idempotently.

* ``sco_loader`` writes raw and audit (and its landing area);
* ``sco_transformer`` reads raw (and the ledger, to know which loads are current),
  writes staging, ref and marts;
* ``sco_reporter`` reads marts only, with a statement timeout against runaway queries;
* ``sco_auditor`` reads audit and marts.

Passwords come from the environment (``SCO_LOADER_PASSWORD`` ...) and are sent as
parameters, never logged or written to the repository; a role without one cannot log
in with a password. Default privileges cover tables created later.
"""

from __future__ import annotations

import os

import psycopg
from psycopg import sql

LOADER, TRANSFORMER, REPORTER, AUDITOR = "sco_loader", "sco_transformer", "sco_reporter", "sco_auditor"
ROLES = (LOADER, TRANSFORMER, REPORTER, AUDITOR)
DEFAULT_REPORTER_STATEMENT_TIMEOUT = "120s"

LOADER_SCHEMAS = ("raw", "audit", "landing")
TRANSFORMER_SCHEMAS = ("staging", "ref", "marts", "marts_build")


def password_env(role: str) -> str:
    return f"{role.upper()}_PASSWORD"


def _ident(name: str) -> sql.Identifier:
    return sql.Identifier(name)


def ensure_roles(conn: psycopg.Connection) -> None:
    """Create the roles and (re)apply their privileges; run inside the bootstrap transaction."""
    me = conn.execute("SELECT current_user").fetchone()[0]
    for role in ROLES:
        # Roles are cluster-wide: another database's bootstrap may create one at the same moment.
        conn.execute(
            sql.SQL(
                "DO $$ BEGIN CREATE ROLE {} NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; "
                "END $$"
            ).format(_ident(role))
        )
        password = os.environ.get(password_env(role))
        if password:
            conn.execute(sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(_ident(role), sql.Literal(password)))
    conn.execute(
        # Per database: several warehouses on one server keep their own limits.
        sql.SQL("ALTER ROLE {} IN DATABASE {} SET statement_timeout = {}").format(
            _ident(REPORTER),
            sql.Identifier(conn.info.dbname),
            sql.Literal(os.environ.get("SCO_REPORTER_STATEMENT_TIMEOUT", DEFAULT_REPORTER_STATEMENT_TIMEOUT)),
        )
    )
    for schema in (*LOADER_SCHEMAS, *TRANSFORMER_SCHEMAS, "sco_util"):
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(_ident(schema)))
        conn.execute(sql.SQL("REVOKE ALL ON SCHEMA {} FROM PUBLIC").format(_ident(schema)))
    conn.execute(sql.SQL("GRANT USAGE ON SCHEMA sco_util TO {}").format(_ident(LOADER)))
    conn.execute(sql.SQL("GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA sco_util TO {}").format(_ident(LOADER)))

    def grant(privileges: str, schema: str, role: str, objects: str = "TABLES") -> None:
        conn.execute(
            sql.SQL("GRANT {} ON ALL {} IN SCHEMA {} TO {}").format(
                sql.SQL(privileges), sql.SQL(objects), _ident(schema), _ident(role)
            )
        )
        conn.execute(
            sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT {} ON {} TO {}").format(
                _ident(me), _ident(schema), sql.SQL(privileges), sql.SQL(objects), _ident(role)
            )
        )

    for schema in LOADER_SCHEMAS:
        conn.execute(sql.SQL("GRANT USAGE, CREATE ON SCHEMA {} TO {}").format(_ident(schema), _ident(LOADER)))
        grant("SELECT, INSERT, UPDATE, DELETE", schema, LOADER)
        grant("USAGE, SELECT", schema, LOADER, "SEQUENCES")
    conn.execute(sql.SQL("GRANT USAGE ON SCHEMA raw, audit TO {}").format(_ident(TRANSFORMER)))
    grant("SELECT", "raw", TRANSFORMER)
    conn.execute(sql.SQL("GRANT SELECT ON audit.load_ledger TO {}").format(_ident(TRANSFORMER)))
    for schema in TRANSFORMER_SCHEMAS:
        conn.execute(sql.SQL("GRANT USAGE, CREATE ON SCHEMA {} TO {}").format(_ident(schema), _ident(TRANSFORMER)))
        grant("SELECT, INSERT, UPDATE, DELETE, TRUNCATE", schema, TRANSFORMER)
    conn.execute(sql.SQL("GRANT USAGE ON SCHEMA audit TO {}").format(_ident(AUDITOR)))
    grant("SELECT", "audit", AUDITOR)
    for schema in ("marts", "marts_build"):
        grant("SELECT", schema, REPORTER)
        grant("SELECT", schema, AUDITOR)
    apply_published_schema_privileges(conn)


def apply_published_schema_privileges(conn: psycopg.Connection) -> None:
    """Readers reach ``marts`` only: after every swap the schema that is now ``marts`` gets
    USAGE for reporter and auditor, and the one that is now ``marts_build`` loses it."""
    readers = sql.SQL(", ").join([_ident(REPORTER), _ident(AUDITOR)])
    conn.execute(sql.SQL("GRANT USAGE ON SCHEMA marts TO {}").format(readers))
    conn.execute(sql.SQL("REVOKE USAGE ON SCHEMA marts_build FROM {}").format(readers))
