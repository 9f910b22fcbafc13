#!/usr/bin/env bash
# The whole test suite: install the locked environment, lint (ruff, sqlfluff), run pytest.
# Integration tests use the PostgreSQL named by WAREHOUSE_URL (default 127.0.0.1:5432) and
# create a fresh database per test on it.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! python3 -m uv --version >/dev/null 2>&1; then
    python3 -m pip install --quiet --disable-pip-version-check "uv==0.13.8"
fi
python3 -m uv sync --frozen --quiet

# The report's browser test drives Debian's Chromium; Chinese text needs a CJK font.
if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "the browser test needs Debian's chromium and fonts-noto-cjk (apt-get install chromium fonts-noto-cjk)" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
fi

echo "== ruff"
.venv/bin/ruff check .

echo "== sqlfluff (dbt templater)"
.venv/bin/python -m sco_green.lint_sql

echo "== pytest"
set +e
.venv/bin/pytest --durations=25 "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
    echo "pytest collected no tests: failing" >&2
    exit 1
fi
exit "$status"
