"""``python -m bench load|memory|overhead``: the project measured side by side with its peers.

``load [--scale large] [--feeds trade,recycling]``: load throughput side by side, for each
feed's generated files (large: the 5.09M-record trade file; the two 500,000-ticket files).

(a) bare ``psql \\copy`` into an unindexed table of the same columns, all text: the physical limit;
(a2) ``psql \\copy`` into a logged table with raw.<feed>'s column types and primary key: the
    least any durable, typed load of the feed costs (the files measured hold valid rows only);
(b) this project's ingest of the same file: land only (decode + COPY), and the full path
    (land, validate with GX in SQL, publish), with the peak RSS of each;
(b') the full path in a process that imported GX before the timer started: how a task forked
    by ``up``'s or a Celery worker finds it (``sco_green.executor``), and how the peers' timers
    start, after their imports;
(c) dlt loading the same CSV into PostgreSQL (its default path: a resource of row batches);
(d) pandas.read_csv + DataFrame.to_sql(method="multi", chunksize=10_000).
The peers need the optional group: ``uv sync --frozen --group bench``; ``--peers none`` skips them.
``--repeat N`` runs (a), (a2) and the project paths N times, interleaved, and reports each one's
median (every run's seconds are kept under ``runs``); the peers, minutes each, run once.
Results are printed as a table per feed and written to bench/results/load-<scale>.json, where a
run of some feeds (``--feeds``) replaces only those; each feed records its commit and date.

``--first-night`` adds the whole first night over the same inbox: ``sco-green nightly`` (the
three ingest DAGs and the build) into an empty warehouse, each DAG's seconds, and the ingest's
rows per second against the typed limits (a2) of the feeds measured.

``memory``: peak RSS of the full ingest of the first 500,000 records of the large trade file
and of the whole file (5.09M records): at most 1 GiB, and at most 1.2x for ten times the rows.
Written to bench/results/memory.json.

``overhead``: ``sco-green nightly`` on an empty inbox and how its wall time splits (see
bench/overhead.py). Written to bench/results/overhead.json.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
from psycopg import sql

from sco_green.feeds import feed
from sco_green.generate import SCALES, generate

RESULTS = Path(__file__).parent / "results"
COPY_LABEL = "psql \\copy (a)"
TYPED_LABEL = "typed keyed \\copy (a2)"
# Each project path, run in its own child process, with its label in the table.
PROJECT_STAGES = {
    "land": "project land (decode+COPY)",
    "full": "project ingest (b)",
    "preloaded": "ingest, GX preloaded (b')",
}


@contextlib.contextmanager
def _fresh_database(server: str) -> Iterator[str]:
    """A new database on the server for one measured path, dropped afterwards whatever happens."""
    name = f"sco_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield server.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _psql_copy_files(url: str, table: str, paths: list[Path]) -> float:
    """Seconds for psql's \\copy of each file into ``table``, by the file's header."""
    started = time.perf_counter()
    for path in paths:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            header = ", ".join(c.strip().lower() for c in next(csv.reader(handle)))
        subprocess.run(
            ["psql", url, "-q", "-c", f"\\copy {table} ({header}) FROM '{path}' WITH (FORMAT csv, HEADER true)"],
            check=True,
        )
    return time.perf_counter() - started


def _psql_copy(url: str, feed_name: str, paths: list[Path]) -> float:
    with psycopg.connect(url, autocommit=True) as conn:
        cols = ", ".join(f"{c} text" for c in feed(feed_name).column_names)
        conn.execute(f"DROP TABLE IF EXISTS bench_copy; CREATE TABLE bench_copy ({cols})")
    return _psql_copy_files(url, "bench_copy", paths)


def _typed_copy(url: str, feed_name: str, paths: list[Path]) -> float:
    """(a2): each file's records into a table like raw.<feed> (its types, NOT NULLs and primary
    key, logged), the key's load id and row number given by defaults."""
    from sco_green.warehouse import bootstrap

    bootstrap(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE bench_typed (LIKE raw.{feed_name} INCLUDING ALL)")
        conn.execute("CREATE SEQUENCE bench_typed_row")
        conn.execute(
            "ALTER TABLE bench_typed ALTER load_id SET DEFAULT 1, ALTER file_name SET DEFAULT 'bench.csv',"
            " ALTER source_row SET DEFAULT nextval('bench_typed_row')"
        )
    return _psql_copy_files(url, "bench_typed", paths)


def _child(stage: str, url: str, inbox: Path, feed_name: str = "trade") -> dict[str, float]:
    """Run one project stage in a child process so its peak RSS is its own."""
    code = (
        "import json, resource, sys, time\n"
        "from datetime import date\n"
        "from sco_green import warehouse, pipeline\n"
        "url, inbox, stage, feed = sys.argv[1:5]\n"
        "warehouse.bootstrap(url)\n"
        "if stage == 'preloaded':\n"
        "    import sco_green.worker_preload\n"
        "t = time.perf_counter()\n"
        "if stage == 'land':\n"
        "    entries = pipeline.land(feed, inbox, url)\n"
        "else:\n"
        "    entries = pipeline.ingest_feed(feed, inbox, url, date(2025, 12, 31))\n"
        "seconds = time.perf_counter() - t\n"
        "rows = sum(e.rows_in or 0 for e in entries)\n"
        "rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "print(json.dumps({'seconds': seconds, 'rows': rows, 'peak_rss_mib': rss}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, url, str(inbox), stage, feed_name], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


PEER_CODE = {
    "dlt": (
        "import csv, dlt, json, sys, tempfile, time\n"
        "url, table, *paths = sys.argv[1:]\n"
        "def batches():\n"
        "    for path in paths:\n"
        "        with open(path, newline='', encoding='utf-8') as handle:\n"
        "            batch = []\n"
        "            for row in csv.DictReader(handle):\n"
        "                batch.append(row)\n"
        "                if len(batch) == 10_000:\n"
        "                    yield batch\n"
        "                    batch = []\n"
        "            if batch:\n"
        "                yield batch\n"
        "rows = dlt.resource(batches, name=table, write_disposition='append')\n"
        "from urllib.parse import urlparse\n"
        "u = urlparse(url)\n"
        "# dlt insists on a password; the bench server trusts local connections and ignores it.\n"
        "credentials = {'host': u.hostname, 'port': u.port or 5432, 'username': u.username or 'postgres',\n"
        "    'password': u.password or 'unused-by-trust-auth', 'database': u.path.lstrip('/')}\n"
        "pipeline = dlt.pipeline(pipeline_name='bench_load', pipelines_dir=tempfile.mkdtemp(),\n"
        "    destination=dlt.destinations.postgres(credentials=credentials), dataset_name='bench')\n"
        "t = time.perf_counter()\n"
        "pipeline.run(rows())\n"
        "seconds = time.perf_counter() - t\n"
        "import resource as rusage\n"
        "rss = rusage.getrusage(rusage.RUSAGE_SELF).ru_maxrss / 1024\n"
        "print(json.dumps({'seconds': seconds, 'peak_rss_mib': rss}))\n"
    ),
    "pandas": (
        "import json, resource, sys, time\n"
        "import pandas as pd, sqlalchemy\n"
        "url, table, *paths = sys.argv[1:]\n"
        "# psycopg2: pandas' usual driver; psycopg 3 binds server-side and a 10,000-row multi-row\n"
        "# INSERT of 9 columns exceeds PostgreSQL's 65,535 parameters.\n"
        "engine = sqlalchemy.create_engine(url.replace('postgresql://', 'postgresql+psycopg2://', 1))\n"
        "t = time.perf_counter()\n"
        "for path in paths:\n"
        "    frame = pd.read_csv(path, dtype=str, keep_default_na=False)\n"
        "    frame.to_sql(\n"
        "        'bench_' + table, engine, method='multi', chunksize=10_000, index=False, if_exists='append'\n"
        "    )\n"
        "seconds = time.perf_counter() - t\n"
        "rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "print(json.dumps({'seconds': seconds, 'peak_rss_mib': rss}))\n"
    ),
}


def _peer(name: str, url: str, feed_name: str, paths: list[Path]) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", PEER_CODE[name], url, feed_name, *map(str, paths)], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"peer {name} failed: {done.stderr.strip().splitlines()[-1:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


LOAD_FEEDS = ("trade", "recycling")


def median_run(runs: list[dict[str, float]]) -> dict[str, object]:
    """Repeated runs of one path as one figure: the median seconds, the highest peak RSS.

    This machine's speed swings between runs minutes apart (the same ticket ingest took 12.9 to
    16.3 s within an hour), so a ratio of two single runs moves by a fifth; the median of a few
    interleaved runs moves less, and every run's time stays in the results to be read.
    """
    summary: dict[str, object] = {**runs[0], "seconds": statistics.median(r["seconds"] for r in runs)}
    if "peak_rss_mib" in runs[0]:
        summary["peak_rss_mib"] = max(r["peak_rss_mib"] for r in runs)
    if len(runs) > 1:
        summary["runs"] = [r["seconds"] for r in runs]
    return summary


def load(
    scale: str,
    server: str,
    workdir: Path,
    peers: tuple[str, ...] = (),
    feeds: tuple[str, ...] = LOAD_FEEDS,
    repeat: int = 1,
    first_night: bool = False,
) -> dict[str, object]:
    """Each feed's files loaded by every path, one fresh database per path."""
    inbox = workdir / f"inbox-{scale}"
    if not (inbox / "trade" / "trade_2020_2025_r0.csv").exists():
        started = time.perf_counter()
        generate(inbox, scale=scale, cycle=1)
        print(f"generated {scale} feeds in {time.perf_counter() - started:.1f}s")
    results: dict[str, object] = {"scale": scale, "feeds": {}}
    provenance = _provenance()
    for feed_name in feeds:
        results["feeds"][feed_name] = {**provenance, **_load_feed(feed_name, inbox, server, peers, repeat)}
    if first_night:
        results["first_night"] = {**provenance, **_first_night(server, inbox, workdir)}
    return results


NIGHT_LINE = re.compile(r"^\s+(ingest_\w+|build_warehouse)\s+(\w+)\s+([0-9.]+)s$")


def _first_night(server: str, inbox: Path, workdir: Path) -> dict[str, object]:
    """``sco-green nightly`` over the inbox into a fresh warehouse: each DAG's state and seconds."""
    with _fresh_database(server) as url, tempfile.TemporaryDirectory(dir=workdir) as var:
        env = {**os.environ, "WAREHOUSE_URL": url, "SCO_GREEN_VAR": var}
        started = time.perf_counter()
        done = subprocess.run(
            [str(Path(sys.executable).parent / "sco-green"), "nightly", "--inbox", str(inbox),
             "--logical-date", "2025-12-29"],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        seconds = time.perf_counter() - started
    dags = {m[1]: {"state": m[2], "seconds": float(m[3])} for m in map(NIGHT_LINE.match, done.stdout.splitlines()) if m}
    return {"seconds": seconds, "dags": dags}


def _load_feed(feed_name: str, inbox: Path, server: str, peers: tuple[str, ...], repeat: int = 1) -> dict[str, object]:
    paths = sorted((inbox / feed_name).glob("*.csv"))
    rows = 0
    for path in paths:
        with open(path, "rb") as handle:
            rows += sum(1 for _ in handle) - 1
    results: dict[str, object] = {
        "files": [p.name for p in paths],
        "rows": rows,
        "bytes": sum(p.stat().st_size for p in paths),
    }
    paths_measured = ("psql_copy", "typed_copy", *(f"project_{stage}" for stage in PROJECT_STAGES))
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in paths_measured}
    for _ in range(repeat):
        with _fresh_database(server) as url:
            runs["psql_copy"].append({"seconds": _psql_copy(url, feed_name, paths)})
        with _fresh_database(server) as url:
            runs["typed_copy"].append({"seconds": _typed_copy(url, feed_name, paths)})
        for stage in PROJECT_STAGES:
            with _fresh_database(server) as url:
                runs[f"project_{stage}"].append(_child(stage, url, inbox, feed_name))
    for limit in ("psql_copy", "typed_copy"):
        results[limit] = median_run(runs[limit])
        results[limit]["rows_per_s"] = rows / results[limit]["seconds"]
    typed = results["typed_copy"]
    typed["ratio_vs_psql_copy"] = typed["rows_per_s"] / results["psql_copy"]["rows_per_s"]
    for stage in PROJECT_STAGES:
        measured = median_run(runs[f"project_{stage}"])
        measured["rows_per_s"] = measured["rows"] / measured["seconds"]
        measured["ratio_vs_psql_copy"] = measured["rows_per_s"] / results["psql_copy"]["rows_per_s"]
        measured["ratio_vs_typed_copy"] = measured["rows_per_s"] / results["typed_copy"]["rows_per_s"]
        results[f"project_{stage}"] = measured
    for name in peers:
        with _fresh_database(server) as url:
            measured = _peer(name, url, feed_name, paths)
        measured["rows_per_s"] = rows / measured["seconds"]
        measured["ratio_vs_psql_copy"] = measured["rows_per_s"] / results["psql_copy"]["rows_per_s"]
        measured["project_ingest_speedup"] = results["project_full"]["rows_per_s"] / measured["rows_per_s"]
        results[f"peer_{name}"] = measured
    return results


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], capture_output=True, text=True, cwd=Path(__file__).parent).stdout.strip()


def _provenance() -> dict[str, str]:
    """Which commit was measured, and when: figures of different runs only compare as ratios."""
    commit = _git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit + ("+changes" if dirty else ""), "measured_on": time.strftime("%Y-%m-%d")}


def merge_load_results(previous: dict[str, object] | None, run: dict[str, object]) -> dict[str, object]:
    """This run's feeds replace the same feeds of the previous results of that scale; other
    feeds keep their earlier figures, each feed labelled with its own commit and date."""
    merged: dict[str, object] = {"scale": run["scale"], "feeds": {}}
    if previous and previous.get("scale") == run["scale"]:
        merged["feeds"].update(previous.get("feeds", {}))
    merged["feeds"].update(run["feeds"])
    return merged


MEMORY_ROWS = (500_000, None)
MEMORY_LIMIT_MIB = 1024
MEMORY_GROWTH = 1.2


def _first_records(source: Path, target: Path, count: int) -> None:
    """The header and the first ``count`` records of a CSV file, records kept whole."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(source, newline="", encoding="utf-8") as src, open(target, "w", newline="", encoding="utf-8") as out:
        reader = csv.reader(src)
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(next(reader))
        for n, record in enumerate(reader):
            if n == count:
                break
            writer.writerow(record)


def memory(server: str, workdir: Path) -> dict[str, object]:
    large = workdir / "inbox-large"
    trade = large / "trade" / "trade_2020_2025_r0.csv"
    if not trade.exists():
        generate(large, scale="large", cycle=1)
    runs: dict[str, object] = {}
    for rows in MEMORY_ROWS:
        inbox = large
        if rows is not None:
            inbox = workdir / f"inbox-trade-{rows}"
            part = inbox / "trade" / trade.name
            if not part.exists():
                _first_records(trade, part, rows)
        with _fresh_database(server) as url:
            runs[str(rows or "all")] = _child("full", url, inbox)
    small, big = runs[str(MEMORY_ROWS[0])], runs["all"]
    return {
        "runs": runs,
        "growth": big["peak_rss_mib"] / small["peak_rss_mib"],
        "rows_ratio": big["rows"] / small["rows"],
        "limit_mib": MEMORY_LIMIT_MIB,
        "growth_limit": MEMORY_GROWTH,
    }


def _print_memory(results: dict[str, object]) -> None:
    print(f"\n{'ingest of':<28}{'rows':>12}{'seconds':>10}{'peak RSS MiB':>14}")
    for run in results["runs"].values():
        print(f"{'trade file':<28}{run['rows']:>12,}{run['seconds']:>10.1f}{run['peak_rss_mib']:>14.0f}")
    peak = max(run["peak_rss_mib"] for run in results["runs"].values())
    ok = peak <= MEMORY_LIMIT_MIB and results["growth"] <= MEMORY_GROWTH
    print(
        f"\npeak RSS grows {results['growth']:.2f}x for {results['rows_ratio']:.1f}x the rows "
        f"(targets: <= {MEMORY_LIMIT_MIB} MiB, <= {MEMORY_GROWTH}x): {'met' if ok else 'missed'}"
    )


def _spread(measured: dict[str, object]) -> str:
    """The runs behind a median, when there were several."""
    runs = measured.get("runs")
    if not runs:
        return ""
    return f"   median of {len(runs)} runs, {min(runs):.1f}-{max(runs):.1f} s"


def _print_load(feed_name: str, results: dict[str, object]) -> None:
    print(
        f"\n{feed_name}: {', '.join(results['files'])} ({results['rows']:,} rows, {results['bytes'] / 2**20:.0f} MiB)"
    )
    print(f"{'path':<28}{'seconds':>10}{'rows/s':>14}{'vs (a)':>10}{'vs (a2)':>10}{'peak RSS MiB':>14}")
    for limit, label in (("psql_copy", COPY_LABEL), ("typed_copy", TYPED_LABEL)):
        m = results[limit]
        typed = m["rows_per_s"] / results["typed_copy"]["rows_per_s"]
        ratio = m["rows_per_s"] / results["psql_copy"]["rows_per_s"]
        print(
            f"{label:<28}{m['seconds']:>10.1f}{m['rows_per_s']:>14,.0f}{ratio:>10.2f}{typed:>10.2f}{'-':>14}{_spread(m)}"
        )
    for stage, label in PROJECT_STAGES.items():
        m = results[f"project_{stage}"]
        print(
            f"{label:<28}{m['seconds']:>10.1f}{m['rows_per_s']:>14,.0f}{m['ratio_vs_psql_copy']:>10.2f}"
            f"{m['ratio_vs_typed_copy']:>10.2f}{m['peak_rss_mib']:>14.0f}{_spread(m)}"
        )
    for name, label in (("dlt", "dlt (c)"), ("pandas", "pandas to_sql multi (d)")):
        m = results.get(f"peer_{name}")
        if m:
            print(
                f"{label:<28}{m['seconds']:>10.1f}{m['rows_per_s']:>14,.0f}{m['ratio_vs_psql_copy']:>10.2f}"
                f"{'':>10}{m['peak_rss_mib']:>14.0f}   project ingest is {m['project_ingest_speedup']:.2f}x this"
            )


def _print_first_night(results: dict[str, object]) -> None:
    night, feeds = results["first_night"], results["feeds"]
    print(f"\nfirst night (sco-green nightly into an empty warehouse): {night['seconds']:.1f} s")
    for dag_id, run in night["dags"].items():
        feed_name = dag_id.removeprefix("ingest_")
        line = f"  {dag_id:<20}{run['state']:<9}{run['seconds']:>7.1f} s"
        if feed_name in feeds:
            typed = feeds[feed_name]["typed_copy"]["seconds"]
            line += f"   (a2) of the feed {typed:.1f} s: {typed / run['seconds']:.2f}x"
        print(line)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    sub = parser.add_subparsers(dest="bench", required=True)
    cmd = sub.add_parser("load", help="load throughput: psql \\copy vs the project's ingest")
    cmd.add_argument("--scale", choices=tuple(SCALES), default="large")
    cmd.add_argument("--workdir", type=Path, default=Path("var/bench"))
    cmd.add_argument("--peers", default="dlt,pandas", help="comma-separated: dlt, pandas, or none")
    cmd.add_argument("--feeds", default=",".join(LOAD_FEEDS), help="comma-separated: trade, recycling")
    cmd.add_argument("--repeat", type=int, default=1, help="runs of (a) and the project paths; medians reported")
    cmd.add_argument("--first-night", action="store_true", help="also the whole first night (ingest and build)")
    mem = sub.add_parser("memory", help="peak RSS of the ingest of 0.5M and 5M trade records")
    mem.add_argument("--workdir", type=Path, default=Path("var/bench"))
    sub.add_parser("overhead", help="sco-green nightly on an empty inbox, and where its time goes")
    args = parser.parse_args()
    server = os.environ.get("WAREHOUSE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    RESULTS.mkdir(exist_ok=True)
    if args.bench == "overhead":
        from bench.overhead import overhead, report

        result = overhead(server)
        (RESULTS / "overhead.json").write_text(json.dumps(result, indent=2))
        print(report(result))
        return 0
    args.workdir.mkdir(parents=True, exist_ok=True)
    if args.bench == "memory":
        result = memory(server, args.workdir)
        (RESULTS / "memory.json").write_text(json.dumps(result, indent=2))
        _print_memory(result)
        return 0
    peers = tuple(p for p in args.peers.split(",") if p and p != "none")
    unknown = set(peers) - set(PEER_CODE)
    if unknown:
        parser.error(f"unknown peers: {', '.join(sorted(unknown))}")
    feeds = tuple(f for f in args.feeds.split(",") if f)
    unknown = set(feeds) - set(LOAD_FEEDS)
    if unknown:
        parser.error(f"unknown feeds: {', '.join(sorted(unknown))}")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    results = load(args.scale, server, args.workdir, peers, feeds, args.repeat, args.first_night)
    out = RESULTS / f"load-{args.scale}.json"
    previous = json.loads(out.read_text()) if out.exists() else None
    out.write_text(json.dumps(merge_load_results(previous, results), indent=2))
    for feed_name, measured in results["feeds"].items():
        _print_load(feed_name, measured)
    if "first_night" in results:
        _print_first_night(results)
    print(f"\nwritten to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
