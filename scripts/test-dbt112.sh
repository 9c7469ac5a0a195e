#!/usr/bin/env bash
# Runs the dbt-facing tests (seams, telemetry, drop-in parity, federation, seeds, the
# jaffle_shop-shaped project) on dbt-core 1.12 in its own venv, .venv-dbt112. Extra arguments go
# to pytest instead of the default test files.
#
# dbt-core 1.12 requires dbt-core-experimental-parser (its v2 parser), whose sdist downloads a
# binary from GitHub while it builds, which cannot work offline. DVT never runs the v2 parser (it
# refuses --use-v2-parser), so the venv gets an empty local stand-in of that name, built here.
# The main venv runs the suite on dbt-core 1.11 (scripts/setup.sh); here DVT's other requirements
# are installed from pyproject.toml with the dbt-core range swapped for 1.12's, then DVT itself
# without dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
env -u PYTHON bash scripts/setup.sh dev  # the Debian packages the tests use (and .venv)
venv=.venv-dbt112
dbt_core="dbt-core>=1.12,<1.13"
standin_version="2.0.0+dvt.standin"  # dbt-core 1.12 requires >=2.0.0b1,<3

. scripts/python.sh
python=$(find_python "${PYTHON:-python3.11}") || python=$(find_python python3)
[ -x $venv/bin/python ] || "$python" -m venv $venv
stamp="$venv/.dvt-installed"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  $venv/bin/python -m pip install -q --upgrade pip
  standin=$(mktemp -d)
  trap 'rm -rf "$standin"' EXIT
  cat > "$standin/pyproject.toml" <<EOF
[build-system]
requires = ["setuptools>=77"]
build-backend = "setuptools.build_meta"

[project]
name = "dbt-core-experimental-parser"
version = "$standin_version"
description = "Empty local stand-in for dbt-core 1.12's v2 parser, which DVT never runs."

[tool.setuptools]
py-modules = []
EOF
  $venv/bin/python -m pip install -q "$standin"
  $venv/bin/python - "$dbt_core" > "$venv/requirements.txt" <<'EOF'
import sys, tomllib

project = tomllib.load(open("pyproject.toml", "rb"))["project"]
for requirement in project["dependencies"] + project["optional-dependencies"]["dev"]:
    if requirement.startswith("dbt-core"):
        requirement = sys.argv[1]
    if not requirement.startswith(("pyspark", "pandas", "moto", "ruff", "mypy")):  # not needed here
        print(requirement)
EOF
  $venv/bin/python -m pip install -q -r "$venv/requirements.txt"
  $venv/bin/python -m pip install -q --no-deps -e .
  touch "$stamp"
fi
export DBT_SEND_ANONYMOUS_USAGE_STATS=false SPARK_LOCAL_IP=127.0.0.1
if [ $# -eq 0 ]; then
  set -- tests/unit/test_seams.py tests/unit/test_telemetry.py \
    tests/functional/test_drop_in.py tests/functional/test_federation.py \
    tests/functional/test_seeds.py tests/functional/test_jaffle_shop.py
fi
exec $venv/bin/python -m pytest -n 2 "$@"
