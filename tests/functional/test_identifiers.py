"""Table and column names with spaces, quotes, unicode and mixed case survive federation in both
directions: PostgreSQL -> DuckDB, DuckDB -> PostgreSQL and SQLite -> both (issue: reliability)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import duckdb
import pytest

from tests.functional.databases import duck_rows, pg_rows
from tests.functional.projects import Project, dbt_project_yml, duck_output, pg_output
from tests.servers.postgres import PostgresServer

pytestmark = [pytest.mark.postgres, pytest.mark.duckdb, pytest.mark.sqlite]

#: Column names as the databases store them, and the SQL that names them.
COLUMNS = ["Order ID", 'naïve "quoted"', "MixedCase", "select"]
QUOTED = ", ".join('"' + c.replace('"', '""') + '"' for c in COLUMNS)
ROWS = [(1, "Zoë", "A b", "x"), (2, "日本", None, "y")]


def values_sql() -> str:
    return ", ".join(
        "("
        + ", ".join(
            "null" if v is None else (str(v) if isinstance(v, int) else f"'{v}'") for v in row
        )
        + ")"
        for row in ROWS
    )


FILES = {
    "dbt_project.yml": dbt_project_yml("ids", "models:\n  ids:\n    +materialized: table\n"),
    "models/sources.yml": """\
        sources:
          - name: pg_src
            schema: "Odd Schema"
            quoting: {schema: true, identifier: true}
            tables: [{name: "My Table"}]
          - name: lite
            schema: main
            config: {connection: lite}
            quoting: {identifier: true}
            tables: [{name: "Lite Table"}]
        """,
    "models/to_duck.sql": "{{ config(target='duck') }} select "
    + QUOTED
    + " from {{ source('pg_src', 'My Table') }} where \"Order ID\" >= 1",
    "models/back_to_pg.sql": "select " + QUOTED + " from {{ ref('to_duck') }}",
    "models/lite_to_pg.sql": "select " + QUOTED + " from {{ source('lite', 'Lite Table') }}",
    "models/lite_to_duck.sql": "{{ config(target='duck') }} select "
    + QUOTED
    + " from {{ source('lite', 'Lite Table') }}",
}


def test_odd_identifiers_survive_federation(postgres: PostgresServer, tmp_path: Path) -> None:
    database = f"ids_{tmp_path.name[-20:]}".lower().replace("-", "_")
    postgres.create_database(database)
    columns = ", ".join(
        f"{q} {'int' if i == 0 else 'text'}" for i, q in enumerate(QUOTED.split(", "))
    )
    postgres.psql(
        f'create schema "Odd Schema"; create table "Odd Schema"."My Table" ({columns}); '
        f'insert into "Odd Schema"."My Table" values {values_sql()}',
        database,
    )
    lite = tmp_path / "lite.db"
    with sqlite3.connect(lite) as conn:
        conn.execute(f'create table "Lite Table" ({columns})')
        conn.execute(f'insert into "Lite Table" values {values_sql()}')
    project = Project(tmp_path / "project").write(FILES)
    project.profiles(
        {
            "pg": pg_output(postgres, database, "analytics"),
            "duck": duck_output(tmp_path / "lake.duckdb", "lake"),
            "lite": {"type": "sqlite", "path": str(lite)},
        },
        "pg",
    )
    done = project.cli("dvt", "run")
    assert done.returncode == 0, done.stdout[-4000:]
    expected = sorted(ROWS, key=repr)
    assert duck_rows(tmp_path / "lake.duckdb", "lake.lake.to_duck") == expected
    assert duck_rows(tmp_path / "lake.duckdb", "lake.lake.lite_to_duck") == expected
    assert pg_rows(postgres, database, "analytics.back_to_pg") == expected
    assert pg_rows(postgres, database, "analytics.lite_to_pg") == expected
    with duckdb.connect(str(tmp_path / "lake.duckdb")) as conn:
        names = [r[0] for r in conn.execute("describe lake.lake.to_duck").fetchall()]
    assert names == COLUMNS
    back = pg_rows(
        postgres,
        database,
        "(select column_name from information_schema.columns where table_name = 'back_to_pg' "
        "order by ordinal_position) t",
    )
    assert sorted(r[0] for r in back) == sorted(COLUMNS)
