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
# 3 (a new file revising 1% of the trade keys and voiding 1% of the tickets).
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
night() {
    echo "== night $1: $2"
    .venv/bin/sco-green nightly --inbox "$inbox" --logical-date "$3" | grep -E "^  (ingest|build)"
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
/usr/bin/time -f "   wall %e s" .venv/bin/python -c "
from sco_green.dbt_runner import run_dbt
run_dbt(['build', '--full-refresh', '--vars', '{marts_schema: marts_full}'])
" >/dev/null
.venv/bin/python -c "
from sco_green.marts_publish import mart_digests
same = mart_digests(None, 'marts') == mart_digests(None, 'marts_full')
print('   published marts equal the full refresh:', same)
"
[ "${KEEP_DB:-0}" = 1 ] || psql "$server/postgres" -qc "drop database $db"
