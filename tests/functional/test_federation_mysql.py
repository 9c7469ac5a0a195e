"""A MySQL/MariaDB source-only connection, federated with PostgreSQL into both targets."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.functional.databases import duck_rows, pg_rows
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
