#!/usr/bin/env bash
# What a night costs: the build DAG on a first night (everything built from scratch) against a
# night with 1% new trade rows, once the warehouse is in its steady state; and one
# `dbt build --full-refresh` for reference.
#
# Usage: bash bench/nightly_cost.sh small|medium|large   (on the server of WAREHOUSE_URL, default
# 127.0.0.1:5432; creates the database bench_<scale> and drops it at the end unless KEEP_DB=1)
#
# Publishing swaps marts and marts_build, so the facts a night builds incrementally are the ones
# published the night before last: the second night builds marts_build's facts from scratch, and
# the steady state starts on the third. The nights are therefore: 1 (first), 2 (no new file),
# 3 (a new file revising 1% of the trade keys and voiding 1% of the tickets); then one full
# refresh, and night 4 (no new file) after it, which rebuilds marts_build's facts.
#
# Between two nights a deployment has a day in which autovacuum visits the tables a night wrote
# (setting hint bits and the visibility map of freshly built tables); the nights here follow each
# other within seconds, so the day is stood in for by one VACUUM ANALYZE of the database.
# Written to bench/results/nightly-cost-<scale>.json.
set -eu
cd "$(dirname "$0")/.."
scale=$1
db=bench_$scale
server=${WAREHOUSE_URL:-postgresql://postgres@127.0.0.1:5432/postgres}
server=${server%/*}
psql "$server/postgres" -qc "drop database if exists $db" -c "create database $db"
export WAREHOUSE_URL=$server/$db
inbox=var/bench/nightly-$scale
rm -rf "$inbox"
.venv/bin/sco-green generate --out "$inbox" --scale "$scale" --cycle 1 >/dev/null 2>&1
times=$(mktemp)
night() {
    echo "== night $1: $2"
    .venv/bin/sco-green nightly --inbox "$inbox" --logical-date "$3" | grep -E "^  (ingest|build)" \
        | while read -r line; do echo "  $line"; echo "night$1 $line" >>"$times"; done
    psql "$WAREHOUSE_URL" -qc "vacuum analyze"  # the day between two nights
}
night 1 "first night, $scale sample" 2025-12-29
night 2 "no new file" 2025-12-30
.venv/bin/python - "$inbox" <<'PY'
import csv, sys
from pathlib import Path

inbox = Path(sys.argv[1])

def rewrite(source: Path, target: Path, change) -> int:
    with open(source, newline="", encoding="utf-8") as handle:
        records = list(csv.DictReader(handle))
    picked = records[::100]
    with open(target, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(records[0]))
        writer.writeheader()
        for record in picked:
            change(record)
            writer.writerow(record)
    return len(picked)

def revise(record):
    record["revision"] = str(int(record["revision"]) + 1)
    record["trade_value_usd"] = f"{float(record['trade_value_usd']) * 1.01:.2f}"

def void(record):
    record["status"] = "VOID"

trade = rewrite(inbox / "trade" / "trade_2020_2025_r0.csv", inbox / "trade" / "trade_2025_revisions.csv", revise)
tickets = rewrite(
    inbox / "recycling" / "tickets_ZIYA_2025H1.csv", inbox / "recycling" / "tickets_ZIYA_2025H1_void.csv", void
)
print(f"   new files: {trade} trade revisions, {tickets} voided tickets")
PY
night 3 "1% new rows" 2025-12-31
echo "== one dbt build --full-refresh (into marts_full, for reference)"
.venv/bin/python - "$times" <<'PY'
import sys, time

from sco_green.dbt_runner import run_dbt
from sco_green.marts_publish import mart_digests

started = time.perf_counter()
run_dbt(["build", "--full-refresh", "--vars", "{marts_schema: marts_full}"])
full = time.perf_counter() - started
same = mart_digests(None, "marts") == mart_digests(None, "marts_full")
print(f"   wall {full:.1f} s; published marts equal the full refresh: {same}")
with open(sys.argv[1], "a") as handle:
    handle.write(f"full_refresh dbt_build {'equal' if same else 'different'} {full:.1f}s\n")
PY
psql "$WAREHOUSE_URL" -qc "vacuum analyze"
# The full refresh rebuilt the winner tables and restamped every winner, so the next night finds
# every winner of marts_build's facts rewritten since their watermark: the night rebuilds the
# facts rather than deleting and inserting 5M rows by key.
night 4 "after the full refresh, no new file" 2026-01-01
.venv/bin/python - "$scale" "$times" <<'PY'
import json, sys
from pathlib import Path

scale, times = sys.argv[1], Path(sys.argv[2])
nights: dict[str, dict[str, float]] = {}
full, same = 0.0, False
for line in times.read_text().splitlines():
    night, dag, state, seconds = line.split()
    if night == "full_refresh":
        full, same = float(seconds.rstrip("s")), state == "equal"
    else:
        nights.setdefault(night, {})[dag] = float(seconds.rstrip("s"))
build = {night: dags["build_warehouse"] for night, dags in nights.items()}
result = {
    "scale": scale,
    "nights": nights,
    "full_refresh_build_s": full,
    "marts_equal_full_refresh": same,
    "night3_build_vs_full_refresh": build["night3"] / full,
    "night3_total_vs_first_night_total": sum(nights["night3"].values()) / sum(nights["night1"].values()),
    "night4_build_vs_full_refresh": build["night4"] / full,
}
print(f"   1% night build_warehouse / full refresh: {result['night3_build_vs_full_refresh']:.2f}x (target 0.15x)")
print(
    "   1% night (ingest + build) / first night (ingest + build): "
    f"{result['night3_total_vs_first_night_total']:.2f}x"
)
print(f"   night after the full refresh, build_warehouse / full refresh: {result['night4_build_vs_full_refresh']:.2f}x")
out = Path("bench/results") / f"nightly-cost-{scale}.json"
out.write_text(json.dumps(result, indent=2))
print(f"   written to {out}")
PY
rm -f "$times"
[ "${KEEP_DB:-0}" = 1 ] || psql "$server/postgres" -qc "drop database $db"
