"""Many federated and pushdown nodes over PostgreSQL, DuckDB and SQLite at --threads 8 give the
same rows as --threads 1: no deadlock, no shared DuckDB file corrupted."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.functional.databases import duck_rows, pg_rows, sqlite_table
from tests.functional.projects import Project, dbt_project_yml, duck_output, pg_output
from tests.servers.postgres import PostgresServer

pytestmark = [pytest.mark.postgres, pytest.mark.duckdb, pytest.mark.sqlite]

N = 15  # per kind: 15 pushdown on each target, 15 federated into each target


def _files() -> dict[str, str]:
    files = {
        "dbt_project.yml": dbt_project_yml("many", "models:\n  many:\n    +materialized: table\n"),
        "models/sources.yml": (
            "sources:\n  - name: app\n    config: {connection: app}\n    tables: [{name: events}]\n"
            "  - name: crm\n    schema: crm\n    tables: [{name: people}]\n"
        ),
    }
    for i in range(N):
        files[f"models/pg_push_{i}.sql"] = (
            f"select id, name, {i} as k from {{{{ source('crm', 'people') }}}} where id % {N} = {i}"
        )
        files[f"models/duck_push_{i}.sql"] = (
            f"{{{{ config(target='duck') }}}} select range as id, {i} as k from range({100 + i})"
        )
        files[f"models/fed_to_pg_{i}.sql"] = (
            f"select e.id, e.kind, d.k from {{{{ source('app', 'events') }}}} e "
            f"join {{{{ ref('duck_push_{i}') }}}} d on d.id = e.id where e.id % {N} = {i}"
        )
        files[f"models/fed_to_duck_{i}.sql"] = (
            f"{{{{ config(target='duck') }}}} select p.id, p.name, e.kind from {{{{ ref('pg_push_{i}') }}}} p "
            f"left join {{{{ source('app', 'events') }}}} e on e.id = p.id"
        )
    return files


def test_threads_8_gives_the_rows_of_threads_1(postgres: PostgresServer, tmp_path: Path) -> None:
    database = f"many_{tmp_path.name[-20:]}".lower().replace("-", "_")
    postgres.create_database(database)
    postgres.psql(
        "create schema crm; create table crm.people as "
        "select g as id, 'person ' || g as name from generate_series(1, 500) g",
        database,
    )
    app = tmp_path / "app.sqlite"
    sqlite_table(app, "events", "id integer, kind text", [(i, f"k{i % 7}") for i in range(400)])
    project = Project(tmp_path / "project").write(_files())
    project.profiles(
        {
            "pg": pg_output(postgres, database, "analytics"),
            "duck": duck_output(tmp_path / "lake.duckdb", "lake"),
            "app": {"type": "sqlite", "path": str(app)},
        },
        "pg",
    )

    def everything() -> dict[str, list[tuple[object, ...]]]:
        rows = {}
        for i in range(N):
            rows[f"pg_push_{i}"] = pg_rows(postgres, database, f"analytics.pg_push_{i}")
            rows[f"fed_to_pg_{i}"] = pg_rows(postgres, database, f"analytics.fed_to_pg_{i}")
        for i in range(N):
            rows[f"duck_push_{i}"] = duck_rows(tmp_path / "lake.duckdb", f"lake.lake.duck_push_{i}")
            rows[f"fed_to_duck_{i}"] = duck_rows(
                tmp_path / "lake.duckdb", f"lake.lake.fed_to_duck_{i}"
            )
        return rows

    serial = project.cli("dvt", "run", "--threads", "1")
    assert serial.returncode == 0, serial.stdout[-3000:]
    expected = everything()
    assert sum(len(v) for v in expected.values()) > 1000
    parallel = project.cli("dvt", "run", "--threads", "8")
    assert parallel.returncode == 0, parallel.stdout[-3000:]
    assert everything() == expected
    statuses = project.statuses()
    assert len(statuses) == 4 * N and set(statuses.values()) == {"success"}
