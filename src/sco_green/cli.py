"""``sco-green``: demo, nightly, up, sql, audit, report, trace, generate, celery-nightly.

Exit code 0 means every file was published or recorded in the ledger with a reason;
non-zero only when the cycle itself could not run, with a one-line cause on stderr.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from datetime import date
from pathlib import Path

from sco_green.paths import var_dir
from sco_green.warehouse import one_line


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sco-green", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("demo", help="generate sample feeds, run every nightly cycle over them, write the report")

    nightly = sub.add_parser("nightly", help="one nightly cycle over an inbox (runs the real DAGs in-process)")
    nightly.add_argument("--inbox", required=True, type=Path, help="folder with members/, trade/, recycling/")
    nightly.add_argument("--logical-date", type=_date, default=None, help="YYYY-MM-DD (default: today)")
    nightly.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="when another cycle holds the warehouse, wait this long for it before giving up (default: do not wait)",
    )
    nightly.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild every seed and incremental table from scratch instead of the night's changes",
    )

    celery = sub.add_parser(
        "celery-nightly",
        help="one nightly on a local Airflow CeleryExecutor cluster (scheduler, dag-processor, api-server, workers)",
    )
    celery.add_argument("--inbox", required=True, type=Path, help="folder with members/, trade/, recycling/")
    celery.add_argument("--workers", type=int, default=2)
    celery.add_argument(
        "--metadata-url",
        default=os.environ.get(
            "SCO_GREEN_CELERY_METADATA_URL", "postgresql://postgres@127.0.0.1:5432/sco_green_airflow"
        ),
        help="Airflow metadata database (PostgreSQL); a scratch database, recreated at start",
    )
    celery.add_argument(
        "--broker-url", default=os.environ.get("SCO_GREEN_CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
    )

    gen = sub.add_parser("generate", help="write deterministic sample feeds")
    gen.add_argument("--out", required=True, type=Path)
    gen.add_argument("--seed", type=int, default=7)
    gen.add_argument("--scale", choices=("small", "medium", "large", "1m", "5m"), default="small")
    gen.add_argument("--cycle", type=int, default=1, help="write the inbox as it stands on night N (1..3)")
    gen.add_argument("--faults", action="store_true", help="inject the faults the contract names")

    up = sub.add_parser("up", help="keep the warehouse and Airflow (scheduler, UI, ...) running until Ctrl-C")
    up.add_argument("--inbox", type=Path, default=Path("inbox"), help="folder the DAGs read (default ./inbox)")
    up.add_argument("--port", type=int, default=8080, help="port of Airflow's UI on 127.0.0.1 (default 8080)")

    sql = sub.add_parser("sql", help="a psql session (or one statement) on the warehouse, as one of its roles")
    sql.add_argument("--role", choices=("reporter", "auditor", "transformer", "loader"), default="reporter")
    sql.add_argument("-c", "--command", dest="sql_command", default=None, help="run this statement and exit")

    audit = sub.add_parser("audit", help="write the auditors' page of the latest night (var/audit/index.html)")
    audit.add_argument("--out", type=Path, default=None, help="folder for index.html (default: var/audit)")

    report = sub.add_parser("report", help="write the annual cooperation report for a year")
    report.add_argument("--year", type=int, required=True)
    report.add_argument("--out", type=Path, default=None)
    report.add_argument("--publish", action="store_true", help="also record it as a release (audit.report_releases)")
    report.add_argument(
        "--allow-incomplete", metavar="REASON", default=None, help="publish a DRAFT anyway, for this stated reason"
    )

    trace = sub.add_parser("trace", help="the files, loads and rows behind one figure of a published report")
    trace.add_argument("figure_id", help="e.g. trade.exports_usd.KAZ.2025")
    trace.add_argument("--release", type=int, default=None, help="that release (default: the latest stating it)")
    trace.add_argument("--format", choices=("text", "json"), default="text")
    return parser


def _ledger_summary(since_load_id: int) -> str:
    from sco_green.warehouse import connect

    with connect() as conn:
        rows = conn.execute(
            "SELECT status, count(*), coalesce(sum(rows_loaded), 0), coalesce(sum(rows_quarantined), 0) "
            "FROM audit.load_ledger WHERE load_id > %s GROUP BY status ORDER BY status",
            (since_load_id,),
        ).fetchall()
    if not rows:
        return "no new files"
    return ", ".join(f"{n} {status} ({loaded} rows, {bad} quarantined)" for status, n, loaded, bad in rows)


UNREAD_SHOWN = 10
# sysexits' EX_TEMPFAIL: nothing is wrong, the same command will run once the other cycle ends.
EXIT_BUSY = 75


def _unread_summary(inbox: Path) -> str | None:
    """The inbox's files that no feed read, for the night's summary (None when there are none)."""
    from sco_green.pipeline import unread_files

    unread = unread_files(inbox)
    if not unread:
        return None
    shown = ", ".join(unread[:UNREAD_SHOWN])
    more = f" and {len(unread) - UNREAD_SHOWN} more" if len(unread) > UNREAD_SHOWN else ""
    return f"{len(unread)} file(s) not read (each feed reads only <feed>/*.csv): {shown}{more}"


def _max_load_id() -> int:
    from sco_green.warehouse import connect

    with connect() as conn:
        return conn.execute("SELECT coalesce(max(load_id), 0) FROM audit.load_ledger").fetchone()[0]


def cmd_nightly(inbox: Path, logical: date, *, full_refresh: bool = False, wait: float = 0.0) -> None:
    from sco_green.cycle_lock import cycle_lock
    from sco_green.warehouse import bootstrap, warehouse_url

    if not inbox.is_dir():
        raise FileNotFoundError(f"inbox {inbox} is not a directory")
    bootstrap()  # the audit schema exists before the lock is looked for
    with cycle_lock(warehouse_url(), "nightly", wait=wait):
        _nightly_locked(inbox, logical, full_refresh=full_refresh)


def _nightly_locked(inbox: Path, logical: date, *, full_refresh: bool) -> None:
    from sco_green.nightly import run_cycle

    before = _max_load_id()
    print(f"nightly {logical.isoformat()} over {inbox}{' (full refresh)' if full_refresh else ''}")
    try:
        run_cycle(inbox, logical, full_refresh=full_refresh)
    except BaseException:
        _write_audit_page_after_failure()
        raise
    print(f"  ledger: {_ledger_summary(before)}")
    if unread := _unread_summary(inbox):
        print(f"  warning: {unread}")
    from sco_green.report import nightly_report_year
    from sco_green.warehouse import connect

    with connect() as conn:
        year = nightly_report_year(conn, logical.year)
    if year is not None:
        print(f"  report: {var_dir() / 'reports' / f'sco_green_report_{year}.html'}")


def _write_audit_page_after_failure() -> None:
    """A night that stopped before its build still shows auditors what it decided."""
    from sco_green.audit_page import write_audit_page

    try:
        write_audit_page()
    except Exception as exc:  # noqa: BLE001 - the cycle's own error is the one to report
        print(f"  audit page not written: {one_line(exc)}", file=sys.stderr)


def cmd_audit(out: Path | None) -> Path:
    from sco_green.audit_page import write_audit_page

    return write_audit_page(out)


def cmd_celery_nightly(args: argparse.Namespace, warehouse: str) -> None:
    from sco_green.celery_cluster import ClusterFailed, ClusterSettings, run_nightly_on_celery
    from sco_green.warehouse import bootstrap

    if not args.inbox.is_dir():
        raise FileNotFoundError(f"inbox {args.inbox} is not a directory")
    bootstrap()
    before = _max_load_id()
    settings = ClusterSettings(
        metadata_url=args.metadata_url,
        broker_url=args.broker_url,
        warehouse_url=warehouse,
        inbox=args.inbox,
        home=var_dir() / "celery",
        workers=args.workers,
    )
    print(f"celery nightly over {args.inbox} ({args.workers} workers); process logs: {settings.home / 'logs'}")
    result = run_nightly_on_celery(settings)
    print(f"  logical date {result.logical_date}; tasks ran on: {', '.join(sorted(result.hosts))}")
    print(f"  ledger: {_ledger_summary(before)}")
    if unread := _unread_summary(args.inbox):
        print(f"  warning: {unread}")
    print(f"  wall time {result.seconds:.1f}s from scheduler start")
    if not result.succeeded:
        failed = [f"{t.dag_id}.{t.task_id}" for t in result.tasks if t.state != "success"]
        raise ClusterFailed(f"nightly did not succeed: runs {result.runs}; tasks not successful: {failed[:5]}")


def cmd_generate(args: argparse.Namespace) -> None:
    from sco_green.generate import generate

    started = time.monotonic()
    paths = generate(args.out, seed=args.seed, scale=args.scale, faults=args.faults, cycle=args.cycle)
    print(f"wrote {len(paths)} files under {args.out} in {time.monotonic() - started:.1f}s")


def cmd_demo() -> None:
    from sco_green.cycle_lock import cycle_lock
    from sco_green.generate import CYCLE_DATES, generate
    from sco_green.warehouse import bootstrap, warehouse_url

    bootstrap()
    with cycle_lock(warehouse_url(), "demo"):
        inbox = var_dir() / "demo" / "inbox"
        if inbox.exists():
            shutil.rmtree(inbox)
        for night, logical in enumerate(CYCLE_DATES, start=1):
            generate(inbox, scale="small", faults=True, cycle=night)
            cmd_nightly(inbox, logical)
    out = var_dir() / "reports" / f"sco_green_report_{CYCLE_DATES[-1].year}.html"
    print(f"\nopen the report: {out}")


def cmd_report(args: argparse.Namespace) -> Path:
    from sco_green.report import write_report
    from sco_green.warehouse import bootstrap

    if args.allow_incomplete is not None and not args.publish:
        raise ValueError("--allow-incomplete goes with --publish")
    if args.allow_incomplete is not None and not args.allow_incomplete.strip():
        raise ValueError("--allow-incomplete needs a reason")
    bootstrap()  # the audit tables of releases exist on a warehouse bootstrapped before them
    return write_report(
        args.year, args.out or var_dir() / "reports", publish=args.publish, allow_incomplete=args.allow_incomplete
    )


def cmd_trace(args: argparse.Namespace) -> str:
    from sco_green.trace import as_json, as_text, trace
    from sco_green.warehouse import bootstrap

    bootstrap()
    found = trace(args.figure_id, args.release)
    return as_json(found) if args.format == "json" else as_text(found)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from sco_green.cycle_lock import CycleBusy
    from sco_green.warehouse import warehouse_session

    try:
        if args.command == "generate":
            cmd_generate(args)
            return 0
        with warehouse_session(var_dir()) as warehouse:
            if args.command == "celery-nightly":
                cmd_celery_nightly(args, warehouse)
            elif args.command == "nightly":
                cmd_nightly(
                    args.inbox, args.logical_date or date.today(), full_refresh=args.full_refresh, wait=args.wait
                )
            elif args.command == "demo":
                cmd_demo()
            elif args.command == "report":
                print(cmd_report(args))
            elif args.command == "trace":
                print(cmd_trace(args))
            elif args.command == "audit":
                print(cmd_audit(args.out))
            elif args.command == "up":
                from sco_green.up import run_up

                return run_up(var_dir(), warehouse, args.inbox, args.port)
            elif args.command == "sql":
                from sco_green.sql_session import run_sql

                return run_sql(warehouse, args.role, args.sql_command)
        return 0
    except KeyboardInterrupt:
        print("sco-green: interrupted", file=sys.stderr)
        return 130
    except CycleBusy as exc:
        print(f"sco-green: {exc} (pass --wait SECONDS to wait for it)", file=sys.stderr)
        return EXIT_BUSY
    except Exception as exc:  # noqa: BLE001 - the CLI's contract is a one-line cause, the log has the rest
        print(f"sco-green: error: {one_line(exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
