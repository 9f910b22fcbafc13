#!/usr/bin/env bash
# What a night costs: the build DAG on a first night (everything built from scratch) against
# nights with 1% new rows, once the warehouse is in its steady state; and against a full rebuild
# night (`sco-green nightly --full-refresh`: the same DAG, every seed and incremental table
# rebuilt), the reference for the incremental nights.
#
# Usage: bash bench/nightly_cost.sh small|medium|large   (on the server of WAREHOUSE_URL, default
# 127.0.0.1:5432; creates the database bench_<scale> and drops it at the end unless KEEP_DB=1)
#
# Publishing swaps marts and marts_build, so the facts a night builds incrementally are the ones
# published the night before last: the second night builds marts_build's facts from scratch, and
# the steady state starts on the third. The nights are therefore: 1 (first), 2 (no new file),
# 3 (new rows: 1% more trade keys, the first figures of a new year, and 1% more tickets, the
# second half-year of both parks: what an ordinary night brings), 4 (revised rows: a file revising
# 1% of the trade keys, spread over every year, and one voiding 1% of a park's tickets: the costly
# kind, since it touches pages all over the large tables); 5, the full rebuild (no new file: its
# marts must equal night 4's); and 6 (no new file) after it, which rebuilds marts_build's facts.
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
write_night_files() {
    .venv/bin/python - "$inbox" "$1" <<'PY'
import csv, sys
from datetime import datetime, timedelta
from pathlib import Path

inbox, kind = Path(sys.argv[1]), sys.argv[2]

def rewrite(source: Path, target: Path, pick, change) -> int:
    with open(source, newline="", encoding="utf-8") as handle:
        records = list(csv.DictReader(handle))
    picked = pick(records)
    with open(target, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(records[0]))
        writer.writeheader()
        for record in picked:
            change(record)
            writer.writerow(record)
    return len(picked)

def last_year_share(records):
    """1% of the file's rows as new keys: every k-th row of the last year, moved to the next."""
    last_year = max(record["year"] for record in records)
    last = [record for record in records if record["year"] == last_year]
    return last[:: max(1, len(last) // (len(records) // 100))]

def next_year(record):
    record["year"] = str(int(record["year"]) + 1)

def second_half(record):
    """The same ticket six months later, numbered in the second half-year's series."""
    for column in ("weigh_in_at", "weigh_out_at"):
        record[column] = (datetime.fromisoformat(record[column]) + timedelta(days=184)).isoformat()
    record["ticket_no"] = record["ticket_no"].replace("1-", "2-", 1)

def revise(record):
    record["revision"] = str(int(record["revision"]) + 1)
    record["trade_value_usd"] = f"{float(record['trade_value_usd']) * 1.01:.2f}"

def void(record):
    record["status"] = "VOID"

def every_100th(records):
    return records[::100]

trade, recycling = inbox / "trade", inbox / "recycling"
if kind == "new":
    rows = rewrite(trade / "trade_2020_2025_r0.csv", trade / "trade_2026_r0.csv", last_year_share, next_year)
    tickets = sum(
        rewrite(recycling / f"tickets_{park}_2025H1.csv", recycling / f"tickets_{park}_2025H2.csv", every_100th, second_half)
        for park in ("BATKEN", "ZIYA")
    )
    print(f"   new files: {rows} new trade keys (a new year), {tickets} new tickets (2025H2)")
else:
    rows = rewrite(trade / "trade_2020_2025_r0.csv", trade / "trade_2025_revisions.csv", every_100th, revise)
    tickets = rewrite(
        recycling / "tickets_ZIYA_2025H1.csv", recycling / "tickets_ZIYA_2025H1_void.csv", every_100th, void
    )
    print(f"   new files: {rows} trade revisions, {tickets} voided tickets")
PY
}
night 1 "first night, $scale sample" 2025-12-29
night 2 "no new file" 2025-12-30
write_night_files new
night 3 "1% new rows" 2025-12-31
write_night_files revised
night 4 "1% revised rows" 2026-01-01
incremental=$(marts_digests)
night 5 "full rebuild (--full-refresh), no new file" 2026-01-02 --full-refresh
[ "$(marts_digests)" = "$incremental" ] && same=equal || same=different
echo "   marts of the revision night and of the full rebuild: $same"
echo "marts $same" >>"$times"
# The full rebuild restamped every winner, so the next night finds every winner of marts_build's
# facts (published the night before last) rewritten since their watermark: it rebuilds the facts
# rather than merging 5M rows by key.
night 6 "after the full rebuild, no new file" 2026-01-03
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
total = {night: sum(dags.values()) for night, dags in nights.items()}
result = {
    "scale": scale,
    "nights": nights,
    "new_rows_night": "night3",
    "revision_night": "night4",
    "full_rebuild_night": "night5",
    "marts_equal_full_rebuild": same,
    "new_rows_build_vs_full_rebuild": build["night3"] / build["night5"],
    "new_rows_total_vs_full_rebuild_total": total["night3"] / total["night5"],
    "revision_build_vs_full_rebuild": build["night4"] / build["night5"],
    "revision_total_vs_full_rebuild_total": total["night4"] / total["night5"],
    "revision_total_vs_first_night_total": total["night4"] / total["night1"],
    "night6_build_vs_full_rebuild": build["night6"] / build["night5"],
}
for label, key in (("new rows", "new_rows"), ("revised rows", "revision")):
    print(f"   1% {label} night, build_warehouse / full rebuild night's: {result[key + '_build_vs_full_rebuild']:.2f}x (target <= 0.35x)")
    print(f"   1% {label} night, ingest + build / full rebuild night's: {result[key + '_total_vs_full_rebuild_total']:.2f}x")
print(f"   1% revised rows night, ingest + build / first night's: {result['revision_total_vs_first_night_total']:.2f}x")
print(f"   night after the full rebuild, build_warehouse / full rebuild's: {result['night6_build_vs_full_rebuild']:.2f}x")
out = Path("bench/results") / f"nightly-cost-{scale}.json"
out.write_text(json.dumps(result, indent=2))
print(f"   written to {out}")
PY
rm -f "$times"
[ "${KEEP_DB:-0}" = 1 ] || psql "$server/postgres" -qc "drop database $db"
