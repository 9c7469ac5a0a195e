#!/usr/bin/env bash
# Sets up DVT and runs the demo project in examples/demo on embedded databases (DuckDB files).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh demo
cd examples/demo
rm -rf target logs ./*.duckdb
../../.venv/bin/python make_shop_db.py
export DBT_SEND_ANONYMOUS_USAGE_STATS=false
../../.venv/bin/dvt plan --profiles-dir .
../../.venv/bin/dvt build --profiles-dir .
../../.venv/bin/dvt show --profiles-dir . --select revenue_by_country
