#!/usr/bin/env bash
# What a night costs: the build DAG on a first night (everything built from scratch) against a
# night with 1% new trade rows, once the warehouse is in its steady state; and against a full
# rebuild night (`sco-green nightly --full-refresh`: the same DAG, every seed and incremental
# table rebuilt), the reference for the incremental night.
#
# Usage: bash bench/nightly_cost.sh small|medium|large   (on the server of WAREHOUSE_URL, default
# 127.0.0.1:5432; creates the database bench_<scale> and drops it at the end unless KEEP_DB=1)
#
# Publishing swaps marts and marts_build, so the facts a night builds incrementally are the ones
# published the night before last: the second night builds marts_build's facts from scratch, and
# the steady state starts on the third. The nights are therefore: 1 (first), 2 (no new file),
# 3 (a new file revising 1% of the trade keys and voiding 1% of the tickets); 4, the full rebuild
# (no new file: its marts must equal night 3's); and 5 (no new file) after it, which rebuilds
# marts_build's facts.
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
    .venv/bin/sco-green nightly --inbox "$inbox" --logical-date "$3" ${4:-} | grep -E "^  (ingest|build)" \
        | while read -r line; do echo "  $line"; echo "night$1 $line" >>"$times"; done
    psql "$WAREHOUSE_URL" -qc "vacuum analyze"  # the day between two nights
}
marts_digests() {
    .venv/bin/python -c "import json; from sco_green.marts_publish import mart_digests; print(json.dumps(mart_digests(None, 'marts'), sort_keys=True))"
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
incremental=$(marts_digests)
night 4 "full rebuild (--full-refresh), no new file" 2026-01-01 --full-refresh
[ "$(marts_digests)" = "$incremental" ] && same=equal || same=different
echo "   marts of the 1% night and of the full rebuild: $same"
echo "marts $same" >>"$times"
# The full rebuild restamped every winner, so the next night finds every winner of marts_build's
# facts (published the night before last) rewritten since their watermark: it rebuilds the facts
# rather than merging 5M rows by key.
night 5 "after the full rebuild, no new file" 2026-01-02
.venv/bin/python - "$scale" "$times" <<'PY'
import json, sys
from pathlib import Path

scale, times = sys.argv[1], Path(sys.argv[2])
nights: dict[str, dict[str, float]] = {}
same = False
for line in times.read_text().splitlines():
    if line.startswith("marts "):
        same = line.split()[1] == "equal"
        continue
    night, dag, state, seconds = line.split()
    nights.setdefault(night, {})[dag] = float(seconds.rstrip("s"))
build = {night: dags["build_warehouse"] for night, dags in nights.items()}
result = {
    "scale": scale,
    "nights": nights,
    "full_rebuild_night": "night4",
    "marts_equal_full_rebuild": same,
    "night3_build_vs_full_rebuild": build["night3"] / build["night4"],
    "night3_total_vs_full_rebuild_total": sum(nights["night3"].values()) / sum(nights["night4"].values()),
    "night3_total_vs_first_night_total": sum(nights["night3"].values()) / sum(nights["night1"].values()),
    "night5_build_vs_full_rebuild": build["night5"] / build["night4"],
}
print(f"   1% night build_warehouse / full rebuild night's: {result['night3_build_vs_full_rebuild']:.2f}x (target 0.15x)")
print(f"   1% night (ingest + build) / full rebuild night's: {result['night3_total_vs_full_rebuild_total']:.2f}x")
print(
    "   1% night (ingest + build) / first night (ingest + build): "
    f"{result['night3_total_vs_first_night_total']:.2f}x"
)
print(f"   night after the full rebuild, build_warehouse / full rebuild's: {result['night5_build_vs_full_rebuild']:.2f}x")
out = Path("bench/results") / f"nightly-cost-{scale}.json"
out.write_text(json.dumps(result, indent=2))
print(f"   written to {out}")
PY
rm -f "$times"
[ "${KEEP_DB:-0}" = 1 ] || psql "$server/postgres" -qc "drop database $db"
