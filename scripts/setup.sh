#!/usr/bin/env bash
# Installs DVT into ./.venv (or $DVT_VENV, with $PYTHON). `setup.sh demo` needs nothing else;
# `setup.sh dev` also installs the Debian packages the test suite uses (PostgreSQL and MariaDB
# servers, PostgreSQL's JDBC driver, Chromium) and DVT's dev extra.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-dev}

if [ "$mode" = dev ]; then
  missing=()
  compgen -G "/usr/lib/postgresql/*/bin/initdb" > /dev/null || missing+=(postgresql)
  [ -f /usr/share/java/postgresql.jar ] || missing+=(libpostgresql-jdbc-java)
  command -v psql > /dev/null || missing+=(postgresql-client)
  [ -x /usr/sbin/mariadbd ] || missing+=(mariadb-server)
  command -v chromium > /dev/null || missing+=(chromium)
  if [ ${#missing[@]} -gt 0 ]; then
    sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
    echo "Installing Debian packages: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
  fi
fi

# The venv (DVT_VENV, default .venv) and its interpreter (PYTHON, default python3.11, else
# python3; pyenv's installations are found even when not enabled).
. scripts/python.sh
venv=${DVT_VENV:-.venv}
if [ -n "${PYTHON:-}" ]; then
  python=$(find_python "$PYTHON") || { echo "No runnable $PYTHON (PYTHON=$PYTHON)." >&2; exit 1; }
else
  python=$(find_python python3.11) || python=$(find_python python3)
fi
if [ -x "$venv/bin/python" ] && [ -n "${PYTHON:-}" ]; then
  want=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  have=$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  if [ "$want" != "$have" ]; then
    echo "$venv is Python $have, not $want: remove it, or set DVT_VENV=.venv-py${want/./}." >&2
    exit 1
  fi
fi
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
stamp="$venv/.dvt-installed-$mode"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  "$venv/bin/python" -m pip install -q --upgrade pip
  # dbt-core 1.11, the lowest DVT supports: 1.12 needs dbt-core-experimental-parser, whose build
  # downloads a binary (scripts/test-dbt112.sh tests 1.12 with a local stand-in for it).
  if [ "$mode" = dev ]; then
    "$venv/bin/python" -m pip install -q -e ".[dev]" "dbt-core>=1.11,<1.12"
  else
    "$venv/bin/python" -m pip install -q -e . "dbt-core>=1.11,<1.12"
  fi
  touch "$stamp"
fi
# An editable install compiles nothing: with PYTHONDONTWRITEBYTECODE set, every DVT module would
# be compiled again at every start (a wheel's install compiles them once, as this does).
"$venv/bin/python" -m compileall -q src/dvt
