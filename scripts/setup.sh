#!/usr/bin/env bash
# Installs DVT into ./.venv. `setup.sh demo` needs nothing else; `setup.sh dev` also installs
# the Debian packages the test suite uses (PostgreSQL and MariaDB servers, PostgreSQL's JDBC driver, Chromium).
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

python=${PYTHON:-python3.11}
command -v "$python" > /dev/null || python=python3
[ -x .venv/bin/python ] || "$python" -m venv .venv
stamp=".venv/.dvt-installed-$mode"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  # dbt-core 1.11, the lowest DVT supports: 1.12 needs dbt-core-experimental-parser, whose build
  # downloads a binary (scripts/test-dbt112.sh tests 1.12 with a local stand-in for it).
  if [ "$mode" = dev ]; then
    .venv/bin/python -m pip install -q -e ".[dev]" "dbt-core>=1.11,<1.12"
  else
    .venv/bin/python -m pip install -q -e . "dbt-core>=1.11,<1.12"
  fi
  touch "$stamp"
fi
