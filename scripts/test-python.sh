#!/usr/bin/env bash
# On each newer Python this machine has (3.12 and 3.13; pyenv's installations are found), in a venv
# of its own (.venv-py312, .venv-py313): installs DVT as a user would (scripts/setup.sh demo), runs
# the demo, then the quick dbt-facing tests: seams, telemetry and drop-in parity on PostgreSQL and
# DuckDB (the slower retry test runs on 3.11 and dbt 1.12). A Python that is not installed is
# skipped with a line saying so. DVT_PYTHONS="3.12" picks the versions; extra
# arguments go to pytest instead of the default test files.
set -euo pipefail
cd "$(dirname "$0")/.."
env -u PYTHON bash scripts/setup.sh dev  # the Debian packages the tests use (and .venv)
. scripts/python.sh
if [ $# -eq 0 ]; then
  set -- tests/unit/test_seams.py tests/unit/test_telemetry.py \
    tests/functional/test_drop_in.py::test_single_target_project_matches_dbt
fi
export DBT_SEND_ANONYMOUS_USAGE_STATS=false SPARK_LOCAL_IP=127.0.0.1
for version in ${DVT_PYTHONS:-3.12 3.13}; do
  if ! python=$(find_python "python$version"); then
    echo "Python $version: not installed, skipped."
    continue
  fi
  venv=".venv-py${version/./}"
  echo "Python $version ($python) in $venv"
  PYTHON="python$version" DVT_VENV="$venv" bash scripts/demo.sh > "$venv.demo.log" 2>&1 || {
    tail -40 "$venv.demo.log"
    echo "The demo failed on Python $version (the whole log: $venv.demo.log)." >&2
    exit 1
  }
  # The test runner's pins from pyproject.toml's dev extra (DVT itself came with setup.sh).
  "$venv/bin/python" - > "$venv/test-requirements.txt" <<'PY'
import tomllib

for requirement in tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["dev"]:
    if requirement.startswith("pytest"):
        print(requirement)
PY
  "$venv/bin/python" -m pip install -q -r "$venv/test-requirements.txt"
  "$venv/bin/python" -m pytest -n 2 -q "$@"
done
