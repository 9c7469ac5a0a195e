"""Ctrl-C (SIGINT) or SIGTERM while a pushdown model runs: the query is cancelled on the server
and dvt exits as dbt does on Ctrl-C (exit 2, in about a second), whatever other outputs the
profile has. (Plain dbt dies of SIGTERM at once, exit -15, leaving the query running.)"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.functional.projects import Project, dbt_project_yml, duck_output, pg_output
from tests.servers.postgres import PostgresServer

pytestmark = [pytest.mark.postgres, pytest.mark.duckdb]

SLEEP = "pg_sleep(20)"
FILES = {
    "dbt_project.yml": dbt_project_yml("signals"),
    "models/slow.sql": f"{{{{ config(materialized='table') }}}} select {SLEEP}::text as slept",
    # On the DuckDB output, and not selected: the run never connects to DuckDB.
    "models/on_duck.sql": "{{ config(target='duck') }} select 1 as id",
    "models/sources.yml": """\
        sources:
          - name: lake
            config: {connection: duck}
            tables: [{name: events}]
        """,
}


def _sleeping(server: PostgresServer, database: str) -> int:
    """Backends of `database` running the model's query."""
    return int(
        server.psql(
            "select count(*) from pg_stat_activity where state = 'active' and "
            f"datname = '{database}' and query like '%{SLEEP}%' and pid <> pg_backend_pid()"
        )
    )


def _signalled(
    project: Project, server: PostgresServer, database: str, sig: signal.Signals, *args: str
) -> tuple[int | None, str, float]:
    """Run `dvt run <args>`, send `sig` once the query runs on the server; return the exit
    code, everything printed and how long the process took to end after the signal."""
    code = "import sys; from dvt.cli.main import cli; sys.exit(cli())"
    folders = ["--project-dir", str(project.root), "--profiles-dir", str(project.root)]
    child = subprocess.Popen(
        [sys.executable, "-c", code, "run", *args, *folders],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while _sleeping(server, database) == 0:
        assert child.poll() is None and time.monotonic() < deadline, child.communicate()[0]
        time.sleep(0.2)
    child.send_signal(sig)
    signalled = time.monotonic()
    try:
        output, _ = child.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        child.kill()
        output, _ = child.communicate()
    return child.returncode, output, time.monotonic() - signalled


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_on_a_pushdown_model_never_touches_an_unopened_adapter(
    sig: signal.Signals, postgres: PostgresServer, tmp_path: Path
) -> None:
    """The DuckDB output's adapter exists (the unselected model and the source are named on it)
    but never connected: cancelling used to ask it whether it can cancel, which dbt-duckdb
    answers with `environment requested before creation!`, so dbt's own cancel never ran and
    the process waited for the query to finish."""
    database = f"sig_{tmp_path.name[-20:]}".lower().replace("-", "_")
    postgres.create_database(database)
    project = Project(tmp_path / "project").write(FILES)
    project.profiles(
        {
            "pg": pg_output(postgres, database, "public"),
            "duck": duck_output(tmp_path / "lake.duckdb"),
        },
        "pg",
    )
    exit_code, output, waited = _signalled(project, postgres, database, sig, "--select", "slow")
    assert exit_code == 2, output[-3000:]
    assert waited < 8, (waited, output[-3000:])  # dbt takes about half a second
    assert "Exited because of keyboard interrupt" in output
    assert "CANCEL query model.signals.slow" in output
    for wrong in ("requested before creation", "During handling", "No DVT invocation"):
        assert wrong not in output, output[-3000:]
    assert _sleeping(postgres, database) == 0  # cancelled on the server, not left running
    assert not (tmp_path / "lake.duckdb").exists()
    assert (project.root / "target" / "run_results.json").exists()  # dbt's Ctrl-C path wrote it
