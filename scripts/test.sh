#!/usr/bin/env bash
# Sets up DVT with everything its tests need and runs the whole suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev
export DBT_SEND_ANONYMOUS_USAGE_STATS=false SPARK_LOCAL_IP=127.0.0.1
exec .venv/bin/python -m pytest -n 2 "$@"
