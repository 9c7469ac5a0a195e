"""Values keep their exact type across engines: PostgreSQL -> DuckDB -> PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.functional.databases import pg_rows
from tests.functional.projects import Project, dbt_project_yml, duck_output, pg_output
from tests.servers.postgres import PostgresServer

pytestmark = [pytest.mark.postgres, pytest.mark.duckdb]

COLUMNS = (
    "i int, b bigint, n numeric(12,4), f double precision, ok boolean, t text, d date, "
    "ts timestamp, tstz timestamptz"
)
ROWS = (
    "(1, 9007199254740993, 12345678.1234, 0.1, true, 'plain', '2024-02-29', "
    "'2024-01-01 12:34:56.789012', '2024-06-30 23:59:59.999999+02'),"
    "(-2147483648, -9223372036854775808, -0.0001, -1e300, false, 'Chloé ✓ 漢字 \"quoted\"', "
    "'0001-01-01', '1970-01-01 00:00:00', '1999-12-31 23:00:00+00'),"
    "(null, null, null, null, null, null, null, null, null),"
    "(0, 0, 0, 'Infinity', true, '', '9999-12-31', '2262-04-11 23:47:16', '2000-01-01 00:00:00-08')"
)

FILES = {
    "dbt_project.yml": dbt_project_yml("types", "models:\n  types:\n    +materialized: table\n"),
    "models/sources.yml": "sources:\n  - name: src\n    schema: src\n    tables: [{name: all_types}]\n",
    "models/on_duck.sql": "{{ config(target='duck') }} select * from {{ source('src', 'all_types') }}",
    "models/back_on_pg.sql": "select * from {{ ref('on_duck') }}",
}


def pg_and_duck_project(
    tmp_path: Path, postgres: PostgresServer, database: str, files: dict[str, str]
) -> Project:
    """A project writing to PostgreSQL (`pg`, the default) and to a DuckDB file (`duck`)."""
    project = Project(tmp_path / "project").write(files)
    return project.profiles(
        {
            "pg": pg_output(postgres, database, "analytics"),
            "duck": duck_output(tmp_path / "lake.duckdb", "lake"),
        },
        "pg",
    )


@pytest.mark.parametrize("compute", ["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def test_round_trip_keeps_values_and_types(
    postgres: PostgresServer, tmp_path: Path, compute: str
) -> None:
    database = f"types_{compute}_{tmp_path.name[-20:]}".lower().replace("-", "_")
    postgres.create_database(database)
    postgres.psql(
        f"create schema src; create table src.all_types ({COLUMNS}); insert into src.all_types values {ROWS}",
        database,
    )
    project = pg_and_duck_project(tmp_path, postgres, database, FILES)
    result = project.dvt("run", "--compute", compute, "--placement", "engine")
    assert result.success, result.exception
    assert {r.adapter_response["dvt"]["path"] for r in result.result.results} == {"federation"}
    assert {r.adapter_response["dvt"]["compute"] for r in result.result.results} == {compute}
    assert pg_rows(postgres, database, "analytics.back_on_pg") == pg_rows(
        postgres, database, "src.all_types"
    )
    types = (
        "select column_name, data_type, numeric_precision, numeric_scale from information_schema.columns "
        "where table_schema = %r and table_name = %r order by ordinal_position"
    )
    back = pg_rows(postgres, database, f"({types % ('analytics', 'back_on_pg')}) t")
    assert back == pg_rows(postgres, database, f"({types % ('src', 'all_types')}) t")


def test_a_type_the_engine_cannot_keep_warns_dvt002(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    database = f"lossy_{tmp_path.name[-20:]}".lower().replace("-", "_")
    postgres.create_database(database)
    postgres.psql(
        "create schema src; create table src.all_types (id int, exact numeric(12,2), loose numeric, doc jsonb); "
        "insert into src.all_types values (1, 1.25, 12345678901234567890.123456789, '{\"a\": 1}')",
        database,
    )
    project = pg_and_duck_project(tmp_path, postgres, database, FILES)
    done = project.cli("dvt", "run", "--select", "on_duck")
    assert done.returncode == 0, done.stdout[-3000:]
    warnings = [line for line in done.stdout.splitlines() if "[DVT002]" in line]
    assert len(warnings) == 2, warnings
    assert "'loose' (numeric)" in warnings[0] and "DOUBLE" in warnings[0]
    assert "'doc' (jsonb)" in warnings[1] and "as text" in warnings[1]
    assert not any("'exact'" in w or "'id'" in w for w in warnings)


def test_integer_division_keeps_the_source_semantics(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    database = f"div_{tmp_path.name[-20:]}".lower().replace("-", "_")
    postgres.create_database(database)
    pairs = "(7, 2, 7.00), (-7, 2, -7.00), (1, 3, 1.00)"
    postgres.psql(
        "create schema src; create table src.pairs (a int, b int, x numeric(6,2));"
        f"insert into src.pairs values {pairs}",
        database,
    )
    with duckdb.connect(str(tmp_path / "lake.duckdb")) as lake:
        lake.execute(
            f"create table pairs (a int, b int, x decimal(6,2)); insert into pairs values {pairs}"
        )
    # The model lives on PostgreSQL, so its SQL means what PostgreSQL means (`int / int` is
    # integer division, `numeric / int` has PostgreSQL's scale), though the data is DuckDB's.
    files = {
        "dbt_project.yml": dbt_project_yml("div", "models:\n  div:\n    +materialized: table\n"),
        "models/sources.yml": "sources:\n  - name: lake\n    schema: main\n"
        "    config: {connection: duck}\n    tables: [{name: pairs}]\n",
        "models/quotients.sql": "select a, a / b as q, a % b as r, x / b as exact "
        "from {{ source('lake', 'pairs') }}",
    }
    project = pg_and_duck_project(tmp_path, postgres, database, files)
    done = project.cli("dvt", "run")
    assert done.returncode == 0, done.stdout[-3000:]
    on_postgres = pg_rows(postgres, database, "(select a, a / b, a % b, x / b from src.pairs) t")
    assert pg_rows(postgres, database, "analytics.quotients") == on_postgres
    types = (
        "(select column_name, data_type, numeric_precision, numeric_scale "
        "from information_schema.columns where table_name = 'quotients') t"
    )
    assert pg_rows(postgres, database, types) == [
        ("a", "integer", 32, 0),
        ("exact", "numeric", None, None),
        ("q", "integer", 32, 0),
        ("r", "integer", 32, 0),
    ]
    # In the engine, numeric division and % cannot be proven the same: forcing it is DVT104.
    forced = project.cli("dvt", "run", "--placement", "engine")
    assert forced.returncode == 1
    assert "[DVT104]" in forced.stdout and "cannot prove" in forced.stdout


def test_a_time_with_its_utc_offset_warns_dvt002(postgres: PostgresServer, tmp_path: Path) -> None:
    """Arrow has no time-with-offset type: DuckDB streams a TIMETZ as TIME, without its offset.
    Read into PostgreSQL, the column says so (DVT002), whichever database holds it."""
    database = f"timetz_{tmp_path.name[-20:]}".lower().replace("-", "_")
    postgres.create_database(database)
    postgres.psql(
        "create schema src; create table src.all_types (id int, at timetz, plain time); "
        "insert into src.all_types values (1, '12:00:00+05', '12:00:00')",
        database,
    )
    lake = tmp_path / "lake.duckdb"
    with duckdb.connect(str(lake)) as conn:
        conn.execute(
            "create table clocks (id int, t timetz); insert into clocks values (1, '12:00:00+05')"
        )
    files = {
        **FILES,
        "models/lake.yml": "sources:\n  - name: lake\n    schema: main\n    config: {connection: duck}\n"
        "    tables: [{name: clocks}]\n",
        "models/clocks_on_pg.sql": "select * from {{ source('lake', 'clocks') }}",
    }
    project = Project(tmp_path / "project").write(files)
    project.profiles(
        {"pg": pg_output(postgres, database, "analytics"), "duck": duck_output(lake)}, "pg"
    )
    done = project.cli("dvt", "run", "--select", "on_duck", "clocks_on_pg")
    assert done.returncode == 0, done.stdout[-3000:]
    warnings = [line for line in done.stdout.splitlines() if "[DVT002]" in line]
    assert len(warnings) == 2, warnings
    assert any("'at' (time with time zone)" in w and "UTC offset is lost" in w for w in warnings)
    assert any("'t' (TIME WITH TIME ZONE)" in w and "UTC offset is lost" in w for w in warnings)
    assert not any("'plain'" in w or "'id'" in w for w in warnings)
