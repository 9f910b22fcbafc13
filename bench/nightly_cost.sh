#!/usr/bin/env bash
# dbt build wall time: full night, then a night with 1% new trade rows, then a full refresh.
# Usage: bash bench/nightly_cost.sh small|medium|large   (uses WAREHOUSE_URL server 127.0.0.1:5432)
# Prints per-DAG times of a first night, of a night with 1% new trade rows, and of a full-refresh
# and a no-change incremental dbt build. Known limit: the 1% night is not yet cheaper than the first.
set -u
cd "$(dirname "$0")/.."
scale=$1
db=bench_$scale
psql -h 127.0.0.1 -U postgres -d postgres -qc "drop database if exists $db" -c "create database $db"
export WAREHOUSE_URL=postgresql://postgres@127.0.0.1:5432/$db
inbox=var/bench/nightly-$scale
rm -rf $inbox
.venv/bin/sco-green generate --out $inbox --scale $scale --cycle 1 2>/dev/null
echo "== night 1 ($scale)"; /usr/bin/time -f "wall %e s" .venv/bin/sco-green nightly --inbox $inbox --logical-date 2025-12-29
# 1% new rows: revisions of 1% of the trade keys, in a new file
.venv/bin/python - "$inbox" <<'PY'
import csv, sys
from pathlib import Path
inbox = Path(sys.argv[1])
src = inbox / "trade" / "trade_2020_2025_r0.csv"
with open(src, newline="") as f:
    rows = list(csv.reader(f))
header, body = rows[0], rows[1:]
step = 100
with open(inbox / "trade" / "trade_2025_revisions.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(header)
    for r in body[::step]:
        r = list(r); r[6] = f"{float(r[6]) * 1.01:.2f}"; r[8] = "1"
        w.writerow(r)
print("1% file rows:", len(body[::step]))
PY
echo "== night 2 (1% new)"; /usr/bin/time -f "wall %e s" .venv/bin/sco-green nightly --inbox $inbox --logical-date 2025-12-30
echo "== full refresh dbt build"
/usr/bin/time -f "wall %e s" .venv/bin/python -c "
from sco_green.dbt_runner import run_dbt
run_dbt(['build', '--full-refresh', '--vars', '{marts_schema: marts_build}'])
" > /dev/null
echo "== incremental dbt build (no new rows)"
/usr/bin/time -f "wall %e s" .venv/bin/python -c "
from sco_green.dbt_runner import run_dbt
run_dbt(['build', '--vars', '{marts_schema: marts_build}'])
" > /dev/null
