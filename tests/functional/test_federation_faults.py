"""Federation faults: a source that dies mid-read, and SQL the source rejects, fail only the
affected model, with a clear error, and leave the previous target table as it was."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from dvt.testing.postgres import PostgresServer
from tests.functional.databases import duck_rows
from tests.functional.projects import Project, dbt_project_yml, duck_output, pg_output

pytestmark = [pytest.mark.postgres, pytest.mark.duckdb]

FILES = {
    "dbt_project.yml": dbt_project_yml(
        "faults", "models:\n  faults:\n    +target: duck\n    +materialized: table\n"
    ),
    "models/sources.yml": """\
        sources:
          - name: app
            schema: app
            config: {connection: pg}
            tables: [{name: events}]
        """,
    "models/events_copy.sql": "select id, kind from {{ source('app', 'events') }} where id > 0",
    "models/events_child.sql": "select count(*) as n from {{ ref('events_copy') }}",
    "models/independent.sql": "select 42 as answer",
}


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    """A server of this test's own, since the test stops it."""
    server = PostgresServer.start()
    try:
        yield server
    finally:
        server.stop()


def _project(tmp_path: Path, server: PostgresServer) -> Project:
    server.create_database("app")
    server.psql(
        "create schema app; create table app.events as select 1 as id, 'old' as kind", "app"
    )
    project = Project(tmp_path / "project").write(FILES)
    project.profiles(
        {
            "duck": duck_output(tmp_path / "lake.duckdb", "lake"),
            "pg": pg_output(server, "app", "public"),
        },
        "duck",
    )
    first = project.cli("dvt", "run")  # a process of its own: it must not keep the file locked
    assert first.returncode == 0, first.stdout[-3000:]
    return project


def _slow_source(server: PostgresServer, rows: int, seconds_per_row: float) -> None:
    """Replace app.events by a view that streams its rows slowly (about ten to twenty seconds)."""
    server.psql(
        "drop table app.events; create view app.events as select g as id, "
        f"case when pg_sleep({seconds_per_row})::text = 'never' then 'x' else 'new' end as kind "
        f"from generate_series(1, {rows}) g",
        "app",
    )


def _tables(path: Path) -> set[str]:
    with duckdb.connect(str(path)) as conn:
        return {
            r[0]
            for r in conn.execute("select table_name from information_schema.tables").fetchall()
        }


def test_source_stopped_mid_extraction(own_postgres: PostgresServer, tmp_path: Path) -> None:
    project = _project(tmp_path, own_postgres)
    _slow_source(own_postgres, rows=2000, seconds_per_row=0.005)
    child, seen = _started(project, "dvt", "events_copy")
    time.sleep(1.5)  # well inside the ten-second read
    own_postgres.stop(remove=False)
    output, _ = child.communicate(timeout=120)
    output = seen + output
    assert child.returncode == 1, output
    statuses = project.statuses()
    assert statuses["model.faults.events_copy"] == "error"
    assert statuses["model.faults.events_child"] == "skipped"
    assert statuses["model.faults.independent"] == "success"
    assert "events_copy" in output and "DVT104" in output
    duck_file = tmp_path / "lake.duckdb"
    assert duck_rows(duck_file, "lake.lake.events_copy") == [(1, "old")]
    assert not [t for t in _tables(duck_file) if "dvt_stage" in t]


def test_wrong_column_names_the_model(own_postgres: PostgresServer, tmp_path: Path) -> None:
    project = _project(tmp_path, own_postgres)
    project.write(
        {"models/events_copy.sql": "select id, no_such_column from {{ source('app', 'events') }}"}
    )
    result = project.cli("dvt", "run")
    assert result.returncode == 1
    assert "events_copy" in result.stdout and "no_such_column" in result.stdout
    assert project.statuses()["model.faults.independent"] == "success"
    assert duck_rows(tmp_path / "lake.duckdb", "lake.lake.events_copy") == [(1, "old")]
    # Fixed, `dvt retry` reruns only what failed or was skipped, federated again.
    own_postgres.psql("update app.events set kind = 'fixed'", "app")
    project.write({"models/events_copy.sql": "select id, kind from {{ source('app', 'events') }}"})
    retried = project.cli("dvt", "retry")
    assert retried.returncode == 0, retried.stdout[-3000:]
    assert set(project.statuses()) == {"model.faults.events_copy", "model.faults.events_child"}
    assert duck_rows(tmp_path / "lake.duckdb", "lake.lake.events_copy") == [(1, "fixed")]


def test_a_wrong_password_never_reaches_output_logs_or_artifacts(
    own_postgres: PostgresServer, tmp_path: Path
) -> None:
    project = _project(tmp_path, own_postgres)
    secret = "wrong-pw-that-must-never-print"
    outputs = {
        "duck": duck_output(tmp_path / "lake.duckdb", "lake"),
        "pg": {**pg_output(own_postgres, "app", "public"), "password": secret},
    }
    project.profiles(outputs, "duck")
    result = project.cli("dvt", "--debug", "--log-format-file", "json", "run")
    assert result.returncode == 1
    assert project.statuses()["model.faults.events_copy"] == "error"
    written = [result.stdout, result.stderr]
    for folder in ("target", "logs"):
        written += [
            p.read_text(errors="replace") for p in (project.root / folder).rglob("*") if p.is_file()
        ]
    assert not [text for text in written if secret in text]


def _started(project: Project, tool: str, node: str) -> tuple[subprocess.Popen[str], str]:
    """Start `<tool> run` and return once it prints that `node` started, with what it printed."""
    code = f"import sys; from {tool}.cli.main import cli; sys.exit(cli())"
    args = ["run", "--project-dir", str(project.root), "--profiles-dir", str(project.root)]
    child = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    seen = ""
    for line in child.stdout:
        seen += line
        if "START" in line and node in line:
            return child, seen
    raise AssertionError(f"{node} never started:\n{seen}")


def _interrupted(project: Project, tool: str, node: str) -> tuple[int, str, float]:
    child, seen = _started(project, tool, node)
    time.sleep(1.5)
    started = time.monotonic()
    child.send_signal(signal.SIGINT)
    output, _ = child.communicate(timeout=120)
    return child.returncode, seen + output, time.monotonic() - started


def test_ctrl_c_during_a_federated_load(own_postgres: PostgresServer, tmp_path: Path) -> None:
    project = _project(tmp_path, own_postgres)
    _slow_source(own_postgres, rows=40000, seconds_per_row=0.0005)
    dvt_code, output, waited = _interrupted(project, "dvt", "events_copy")
    assert waited < 15, output  # the engine query was cancelled, not waited for
    duck_file = tmp_path / "lake.duckdb"
    assert duck_rows(duck_file, "lake.lake.events_copy") == [(1, "old")]
    assert not [t for t in _tables(duck_file) if "dvt_stage" in t]
    # dbt's own exit code for an interrupted run, measured on a slow pushdown model.
    dbt_like = Project(tmp_path / "dbt_only").write(
        {
            "dbt_project.yml": dbt_project_yml("faults"),
            "models/slow.sql": "{{ config(materialized='table') }} select pg_sleep(20)::text as slept",
        }
    )
    dbt_like.profiles({"pg": pg_output(own_postgres, "app", "public")}, "pg")
    dbt_code, dbt_output, _ = _interrupted(dbt_like, "dbt", "slow")
    assert "slow" in dbt_output and dvt_code == dbt_code != 0, (dbt_output[-1500:], output[-1500:])
