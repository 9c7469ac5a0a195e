#!/usr/bin/env bash
# Sets up DVT and runs the demo project in examples/demo on embedded databases (DuckDB files).
# PYTHON=python3.12 DVT_VENV=.venv-py312 runs it on another Python in a venv of its own.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh demo
bin="$PWD/${DVT_VENV:-.venv}/bin"
cd examples/demo
rm -rf target logs ./*.duckdb
"$bin/python" make_shop_db.py
export DBT_SEND_ANONYMOUS_USAGE_STATS=false
"$bin/dvt" plan --profiles-dir .
"$bin/dvt" build --profiles-dir .
"$bin/dvt" show --profiles-dir . --select revenue_by_country
