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


QUOTED_NAME_FILES = {
    "dbt_project.yml": dbt_project_yml("quoted", "models:\n  quoted:\n    +materialized: table\n"),
    "models/sources.yml": """\
        sources:
          - name: app
            schema: app
            tables:
              - {name: weird, identifier: 'we"ird'}
              - {name: dotted, identifier: 'x"."y'}
        """,
    "models/from_weird.sql": "{{ config(target='duck') }} select * from {{ source('app', 'weird') }}",
    "models/from_dotted.sql": "{{ config(target='duck') }} select * from {{ source('app', 'dotted') }}",
}


def test_a_table_name_holding_a_double_quote_fails_clearly(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    """dbt writes relation names without escaping a quote inside them, so `we"ird` becomes a name
    no parser reads (it failed with SQLGlot's "Error tokenizing" or "too many values to unpack"),
    and `x"."y` one that reads as table `y` of schema `app`: both federated models fail with
    DVT104 saying why, and neither reads the other table."""
    database = f"quoted_{tmp_path.name[-20:]}".lower().replace("-", "_")
    postgres.create_database(database)
    postgres.psql(
        'create schema app; create table app."we""ird" as select 1 as id; '
        'create table app."x"".""y" as select 2 as id; create table app.y as select 666 as id',
        database,
    )
    project = Project(tmp_path / "project").write(QUOTED_NAME_FILES)
    project.profiles(
        {
            "pg": pg_output(postgres, database, "analytics"),
            "duck": duck_output(tmp_path / "lake.duckdb", "lake"),
        },
        "pg",
    )
    done = project.cli("dvt", "run")
    output = done.stdout + done.stderr
    assert done.returncode == 1, output[-4000:]
    statuses = project.statuses()
    assert statuses == {
        "model.quoted.from_weird": "error",
        "model.quoted.from_dotted": "error",
    }, output[-4000:]
    for relation in ('"app"."we"ird"', '"app"."x"."y"'):
        assert f'[DVT104] Relation "{database}".{relation} cannot be federated' in output
    assert "holds a double quote, which dbt does not escape" in output
    assert "Error tokenizing" not in output and "too many values" not in output
    assert "Traceback" not in output
    with duckdb.connect(str(tmp_path / "lake.duckdb")) as conn:
        tables = conn.execute("select table_name from information_schema.tables").fetchall()
    assert not tables  # nothing was read from app.y
