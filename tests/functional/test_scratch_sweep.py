"""Stages and imports left by invocations that no longer run are dropped by the next run that
writes to their target; those of a live invocation are kept.

A live invocation holds a PostgreSQL advisory lock keyed on its tag (`<alias>__dvt_<role>_<tag>`)
for as long as it runs; the tests hold such a lock themselves to stand for one, or run two real
`dvt` processes. A DuckDB file is opened for writing by one process at a time, so every other
tag in it is dead."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import duckdb
import psycopg2
import pytest

from tests.functional.databases import pg_relations
from tests.functional.projects import Project, dbt_project_yml, duck_output, pg_output
from tests.servers.postgres import PostgresServer

pytestmark = [pytest.mark.postgres, pytest.mark.duckdb]

#: DVT's advisory lock class ('DVT'), the first key of every invocation's lock.
LOCK_CLASS = 0x445654
DEAD, LIVE = "deadbeef", "0badf00d"

FILES = {
    "dbt_project.yml": dbt_project_yml("sweep", "models:\n  sweep:\n    +materialized: table\n"),
    "models/sources.yml": """\
        sources:
          - name: app
            schema: app
            config: {connection: src}
            tables: [{name: events}]
        """,
    "models/labels.sql": "{{ config(target='duck') }} select 1 as id, 'one' as label",
    "models/to_pg.sql": """\
        {{ config(target='wh') }}
        select e.id, l.label from {{ source('app', 'events') }} e join {{ ref('labels') }} l
        on l.id = e.id
        """,
    "models/to_duck.sql": """\
        {{ config(target='duck') }}
        select e.id, l.label from {{ source('app', 'events') }} e join {{ ref('labels') }} l
        on l.id = e.id
        """,
}


def _lock_key(tag: str) -> int:
    value = int(tag, 16)
    return value - (1 << 32) if value >= 1 << 31 else value


def _databases(server: PostgresServer, tmp_path: Path) -> tuple[str, str]:
    suffix = tmp_path.name[-12:].lower().replace("-", "_")
    source, warehouse = f"src_{suffix}", f"wh_{suffix}"
    server.create_database(source)
    server.create_database(warehouse)
    server.psql("create schema app; create table app.events as select 1 as id", source)
    return source, warehouse


def _project(server: PostgresServer, tmp_path: Path, source: str, warehouse: str) -> Project:
    project = Project(tmp_path / "project").write(FILES)
    project.profiles(
        {
            "wh": pg_output(server, warehouse, "public"),
            "src": pg_output(server, source, "public"),
            "duck": duck_output(tmp_path / "lake.duckdb", "lake"),
        },
        "duck",
    )
    return project


def _duck_tables(path: Path) -> set[str]:
    with duckdb.connect(str(path)) as conn:
        return {r[0] for r in conn.execute("select table_name from duckdb_tables()").fetchall()}


def test_dead_invocations_scratch_is_dropped_a_live_ones_kept(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    source, warehouse = _databases(postgres, tmp_path)
    dead, live = f"to_pg__dvt_in0_{DEAD}", f"to_pg__dvt_stage_{LIVE}"
    not_scratch = "notes__dvt_in0_draft"
    postgres.psql(
        f"create table public.{dead} (id int); create table public.{live} (id int); "
        f"create table public.{not_scratch} (id int)",
        warehouse,
    )
    # A target the run only reads from is never swept.
    postgres.psql(f"create table public.{dead} (id int)", source)
    project = _project(postgres, tmp_path, source, warehouse)
    first = project.cli("dvt", "run", "--select", "labels")
    assert first.returncode == 0, first.stdout[-3000:]
    with duckdb.connect(str(tmp_path / "lake.duckdb")) as conn:
        conn.execute(f"create table lake.lake.to_duck__dvt_stage_{DEAD} as select 1 as id")

    holder = psycopg2.connect(postgres.dsn_for(warehouse))
    holder.autocommit = True
    try:
        with holder.cursor() as cursor:  # stands for a live invocation tagged LIVE
            cursor.execute("select pg_advisory_lock(%s, %s)", (LOCK_CLASS, _lock_key(LIVE)))
        result = project.cli("dvt", "run")
        assert result.returncode == 0, result.stdout[-3000:]
        relations = pg_relations(postgres, warehouse, "public")
        assert dead not in relations and live in relations and not_scratch in relations
        assert dead in pg_relations(postgres, source, "public")
        assert f"Dropped public.{dead} on target 'wh'" in result.stdout, result.stdout[-3000:]
        assert f"Dropped lake.to_duck__dvt_stage_{DEAD} on target 'duck'" in result.stdout
        assert live not in result.stdout
        assert not [t for t in _duck_tables(tmp_path / "lake.duckdb") if "__dvt_" in t]
    finally:
        holder.close()  # the "invocation" ends: its lock goes with its connection
    again = project.cli("dvt", "run", "--select", "to_pg")
    assert again.returncode == 0, again.stdout[-3000:]
    assert live not in pg_relations(postgres, warehouse, "public")
    assert f"Dropped public.{live} on target 'wh'" in again.stdout


def test_a_running_invocations_imports_survive_another_run(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    """Two real `dvt` processes: while the first has one import on the target and loads its
    second (from a slow view), a second run writing scratch relations to the same target keeps
    the first's import, and both finish."""
    source, warehouse = _databases(postgres, tmp_path)
    postgres.psql(
        "create view app.slow as select g as id from generate_series(1, 2000) g "
        "where pg_sleep(0.01) is not null",
        source,
    )
    project = _project(postgres, tmp_path, source, warehouse)
    project.write(
        {
            "models/to_pg.sql": """\
                {{ config(target='wh', placement='target') }}
                select e.id, count(*) as n from {{ source('app', 'events') }} e
                join {{ source('app', 'slow') }} s on s.id >= e.id
                join {{ ref('labels') }} l on l.id = e.id group by e.id
                """,
            "models/sources.yml": """\
                sources:
                  - name: app
                    schema: app
                    config: {connection: src}
                    tables: [{name: events}, {name: slow}]
                """,
        }
    )
    first = project.cli("dvt", "run", "--select", "labels")
    assert first.returncode == 0, first.stdout[-3000:]
    other = Project(tmp_path / "other").write(FILES)
    other.profiles(
        {
            "wh": pg_output(postgres, warehouse, "other"),
            "src": pg_output(postgres, source, "public"),
            "duck": duck_output(tmp_path / "other.duckdb", "lake"),
        },
        "duck",
    )
    code = "import sys; from dvt.cli.main import cli; sys.exit(cli())"
    folders = ["--project-dir", str(project.root), "--profiles-dir", str(project.root)]
    slow = subprocess.Popen(
        [sys.executable, "-c", code, "run", "--select", "to_pg", *folders],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not (
        imports := [t for t in pg_relations(postgres, warehouse, "public") if "__dvt_" in t]
    ):
        assert slow.poll() is None and time.monotonic() < deadline, slow.communicate()[0]
        time.sleep(0.1)
    second = other.cli("dvt", "run")  # writes scratch relations to wh too (schema other)
    assert second.returncode == 0, second.stdout[-3000:]
    assert "Dropped" not in second.stdout
    assert slow.poll() is None, "the first run ended too soon to prove anything"
    assert set(imports) <= set(pg_relations(postgres, warehouse, "public"))
    output, _ = slow.communicate(timeout=120)
    assert slow.returncode == 0, output[-3000:]
    assert not [t for t in pg_relations(postgres, warehouse, "public") if "__dvt_" in t]
