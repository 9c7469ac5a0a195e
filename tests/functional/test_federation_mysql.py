"""A MySQL/MariaDB source-only connection, federated with PostgreSQL into both targets; unit
tests of a model over MySQL and SQLite inputs."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.functional.databases import duck_rows, pg_rows, sqlite_table
from tests.functional.projects import Project, dbt_project_yml, duck_output, pg_output
from tests.servers.mariadb import MariaDBServer
from tests.servers.postgres import PostgresServer

pytestmark = [pytest.mark.postgres, pytest.mark.duckdb, pytest.mark.mysql]

MODEL = """\
{{{{ config(materialized='table', target='{target}') }}}}
select o.id, o.amount, o.note, c.name
from {{{{ source('shop', 'orders') }}}} o
join {{{{ source('crm', 'customers') }}}} c on c.id = o.customer_id
where o.amount > 5
"""


def mysql_output(server: MariaDBServer, database: str) -> dict[str, object]:
    return {
        "type": "mysql",
        "host": server.host,
        "port": server.port,
        "user": server.user,
        "password": server.password,
        "database": database,
    }


@pytest.mark.parametrize("compute", ["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def test_mysql_source_federates_into_postgres_and_duckdb(
    postgres: PostgresServer, mariadb: MariaDBServer, tmp_path: Path, compute: str
) -> None:
    shop = f"shop_{tmp_path.name[-16:]}".lower().replace("-", "_")
    mariadb.sql(
        f"create database {shop}; create table {shop}.orders (id int, customer_id int, "
        "amount decimal(10,2), note varchar(40), secret varchar(10));"
        f"insert into {shop}.orders values (1, 1, 9.99, 'Chloé ✓', 'x'), (2, 2, 20.00, null, 'y'),"
        " (3, 1, 1.50, 'small', 'z')"
    )
    database = f"my_{tmp_path.name[-20:]}".lower().replace("-", "_")
    postgres.create_database(database)
    postgres.psql(
        "create schema crm; create table crm.customers as select 1 as id, 'Ann' as name union all select 2, 'Bob'",
        database,
    )
    project = Project(tmp_path / "project").write(
        {
            "dbt_project.yml": dbt_project_yml("mysqlfed"),
            "models/sources.yml": (
                f"sources:\n  - name: shop\n    schema: {shop}\n    config: {{connection: shop_db}}\n"
                "    tables: [{name: orders}]\n  - name: crm\n    tables: [{name: customers}]\n"
            ),
            "models/to_pg.sql": MODEL.format(target="pg"),
            "models/to_duck.sql": MODEL.format(target="duck"),
        }
    )
    project.profiles(
        {
            "pg": pg_output(postgres, database, "analytics"),
            "duck": duck_output(tmp_path / "lake.duckdb", "analytics"),
            "shop_db": mysql_output(mariadb, shop),
        },
        "pg",
    )
    result = project.dvt("run", "--compute", compute)
    assert result.success, result.exception
    expected = [(1, Decimal("9.99"), "Chloé ✓", "Ann"), (2, Decimal("20.00"), None, "Bob")]
    assert pg_rows(postgres, database, "analytics.to_pg") == expected
    assert duck_rows(tmp_path / "lake.duckdb", "lake.analytics.to_duck") == expected
    extraction = next(
        e["sql"]
        for r in result.result.results
        for e in r.adapter_response["dvt"]["extractions"]
        if e["target"] == "shop_db"
    )
    assert extraction.startswith("SELECT `") and "secret" not in extraction and "> 5" in extraction


def test_a_pushed_timestamp_keeps_its_fractional_seconds(
    postgres: PostgresServer, mariadb: MariaDBServer, tmp_path: Path
) -> None:
    """MySQL's `CAST('...07.357282' AS DATETIME)` drops the fraction: a pushed filter on a
    DATETIME(6) column finds the rows PostgreSQL finds in a copy of the table."""
    shop = f"ev_{tmp_path.name[-16:]}".lower().replace("-", "_")
    rows = "(1, '2024-09-11 18:50:07.357282'), (2, '2024-09-11 18:50:07'), (3, '2024-09-11 18:50:07.9')"
    mariadb.sql(
        f"create database {shop}; create table {shop}.events (id int, at datetime(6));"
        f"insert into {shop}.events values {rows}"
    )
    database = f"ev_{tmp_path.name[-20:]}".lower().replace("-", "_")
    postgres.create_database(database)
    postgres.psql(
        "create schema copy; create table copy.events (id int, at timestamp(6));"
        f"insert into copy.events values {rows}",
        database,
    )
    where = (  # truncated to whole seconds, both bounds would be 18:50:07: no row
        "where e.at >= timestamp '2024-09-11 18:50:07.357282' "
        "and e.at < timestamp '2024-09-11 18:50:07.5'"
    )
    project = Project(tmp_path / "project").write(
        {
            "dbt_project.yml": dbt_project_yml("mysqlts"),
            "models/sources.yml": (
                f"sources:\n  - name: shop\n    schema: {shop}\n    config: {{connection: shop_db}}\n"
                "    tables: [{name: events}]\n"
            ),
            "models/picked.sql": (
                "{{ config(materialized='table') }}\n"
                f"select e.id from {{{{ source('shop', 'events') }}}} e {where}"
            ),
        }
    )
    project.profiles(
        {"pg": pg_output(postgres, database, "analytics"), "shop_db": mysql_output(mariadb, shop)},
        "pg",
    )
    result = project.dvt("run")
    assert result.success, result.result.results[0].message
    native = pg_rows(postgres, database, f"(select e.id from copy.events e {where}) as native")
    assert native == [(1,)]
    assert pg_rows(postgres, database, "analytics.picked") == native
    (extraction,) = result.result.results[0].adapter_response["dvt"]["extractions"]
    assert extraction["sql"].count("AS DATETIME(6))") == 2, extraction["sql"]


def test_writing_to_a_source_only_connection_is_refused(
    mariadb: MariaDBServer, tmp_path: Path
) -> None:
    project = Project(tmp_path / "project").write(
        {
            "dbt_project.yml": dbt_project_yml("refuse"),
            "models/m.sql": "{{ config(target='shop_db') }} select 1 as id",
        }
    )
    project.profiles(
        {
            "duck": duck_output(tmp_path / "lake.duckdb"),
            "shop_db": mysql_output(mariadb, "mysql"),
        },
        "duck",
    )
    result = project.cli("dvt", "run")
    assert result.returncode == 2
    assert (
        "DVT106" in result.stdout
        and "model.refuse.m" in result.stdout
        and "source-only" in result.stdout
    )
    assert mariadb.password not in result.stdout


# Unit tests of a federated model whose inputs live on source-only connections (issue 18): no
# dbt adapter describes them, so their fixtures are typed as an import of each input would be.
UNIT_MODEL = """\
{{{{ config(materialized='table', target='{target}') }}}}
select o.id, o.amount, o.placed_on, r.name as region, r.population
from {{{{ source('shop', 'orders') }}}} o
join {{{{ source('geo', 'regions') }}}} r on r.code = o.region_code
where o.amount > 5 and o.placed_on >= date '2024-01-01' and r.population > 1000000
"""
UNIT_GIVEN = """\
    given:
      - input: source('shop', 'orders')
        rows:
          - {id: 1, amount: 10.50, placed_on: 2024-01-02, region_code: nz}
          - {id: 2, amount: 4.99, placed_on: 2024-01-03, region_code: nz}
          - {id: 3, amount: 7.25, placed_on: 2023-12-31, region_code: fr}
          - {id: 4, amount: 20, placed_on: 2024-02-01, region_code: fr}
          - {id: 5, amount: 30, placed_on: 2024-02-01, region_code: tk}
      - input: source('geo', 'regions')
        rows:
          - {code: nz, name: New Zealand, population: 5000000}
          - {code: fr, name: France, population: 68000000}
          - {code: tk, name: Tokelau, population: 1400}
"""
UNIT_TESTS = f"""\
unit_tests:
  - name: typed_fixtures
    model: orders_by_region
{UNIT_GIVEN}    expect:
      rows:
        - {{id: 1, amount: 10.5, placed_on: 2024-01-02, region: New Zealand, population: 5000000}}
        - {{id: 4, amount: 20.00, placed_on: 2024-02-01, region: France, population: 68000000}}
  - name: expected_wrong
    model: orders_by_region
{UNIT_GIVEN}    expect:
      rows:
        - {{id: 1, amount: 10.49, placed_on: 2024-01-02, region: New Zealand, population: 5000000}}
        - {{id: 4, amount: 20.00, placed_on: 2024-02-01, region: France, population: 68000000}}
"""


@pytest.mark.sqlite
@pytest.mark.parametrize("target", ["pg", "duck"])
def test_unit_tests_type_fixtures_of_sqlite_and_mysql_inputs(
    postgres: PostgresServer, mariadb: MariaDBServer, tmp_path: Path, target: str
) -> None:
    shop = f"ut_{tmp_path.name[-16:]}".lower().replace("-", "_")
    mariadb.sql(
        f"create database {shop}; create table {shop}.orders (id int, amount decimal(10,2), "
        "placed_on date, region_code varchar(8))"
    )
    geo = tmp_path / "geo.sqlite"
    sqlite_table(geo, "regions", "code text, name text, population integer", [("nz", "NZ", 1)])
    database = f"ut_{tmp_path.name[-20:]}".lower().replace("-", "_")
    postgres.create_database(database)
    project = Project(tmp_path / "project").write(
        {
            "dbt_project.yml": dbt_project_yml("unitsrc"),
            "models/sources.yml": f"""\
                sources:
                  - name: shop
                    schema: {shop}
                    config: {{connection: shop_db}}
                    tables: [{{name: orders}}]
                  - name: geo
                    schema: main
                    config: {{connection: geo_db}}
                    tables: [{{name: regions}}]
                """,
            "models/orders_by_region.sql": UNIT_MODEL.format(target=target),
            "models/unit.yml": UNIT_TESTS,
        }
    )
    project.profiles(
        {
            "pg": pg_output(postgres, database, "analytics"),
            "duck": duck_output(tmp_path / "lake.duckdb", "analytics"),
            "shop_db": mysql_output(mariadb, shop),
            "geo_db": {"type": "sqlite", "path": str(geo)},
        },
        "pg",
    )
    done = project.cli("dvt", "--no-use-colors", "test", "--select", "test_type:unit")
    assert done.returncode == 1, done.stdout  # the wrong expectation fails, as it should
    assert project.statuses() == {
        "unit_test.unitsrc.orders_by_region.typed_fixtures": "pass",
        "unit_test.unitsrc.orders_by_region.expected_wrong": "fail",
    }, done.stdout
    assert "actual differs from expected" in done.stdout and "10.49" in done.stdout
    compiled = {
        r["unique_id"]: r["compiled_code"] for r in project.artifact("run_results.json")["results"]
    }["unit_test.unitsrc.orders_by_region.typed_fixtures"]
    # Typed as the imports are: MySQL's decimal(10,2) and date, SQLite's integer as BIGINT.
    for cast in ("cast(10.5 as DECIMAL(10,2))", "cast('2024-01-02' as DATE)", "as BIGINT)"):
        assert cast in compiled, compiled
