"""`dvt plan --estimate`: each input's row count from its own database's statistics (PostgreSQL
after ANALYZE, DuckDB, MySQL), counted only where none are kept (SQLite); a plain plan asks no
database for statistics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.functional.databases import sqlite_table
from tests.functional.projects import Project, dbt_project_yml, duck_output, pg_output
from tests.servers.mariadb import MariaDBServer
from tests.servers.postgres import PostgresServer

pytestmark = [pytest.mark.postgres, pytest.mark.duckdb, pytest.mark.sqlite]

FILES = {
    "dbt_project.yml": dbt_project_yml("est", "models:\n  est:\n    lake:\n      +target: duck\n"),
    "models/sources.yml": """\
        sources:
          - name: crm
            schema: crm
            tables: [{name: customers}, {name: fresh}]
          - name: shop
            config: {connection: shop}
            tables: [{name: orders}]
        """,
    "models/lake/countries.sql": """\
        {{ config(materialized='table') }}
        select 'C' || i as code, 'Country ' || i as country from range(40) t(i)
        """,
    "models/customer_orders.sql": """\
        {{ config(materialized='table') }}
        select c.id, k.country, count(o.order_id) as orders
        from {{ source('crm', 'customers') }} c
        join {{ ref('countries') }} k on k.code = c.country_code
        left join {{ source('shop', 'orders') }} o on o.customer_id = c.id
        group by c.id, k.country
        """,
    "models/top_customers.sql": """\
        select c.* from {{ ref('customer_orders') }} c
        join {{ source('crm', 'fresh') }} f on f.id = c.id
        where c.orders > 1
        """,
}

CUSTOMERS, COUNTRIES, ORDERS = 1200, 40, 250


@pytest.fixture
def est(postgres: PostgresServer, tmp_path: Path) -> Project:
    """PostgreSQL customers (analyzed), a DuckDB model built, SQLite orders; nothing else built."""
    database = f"est_{tmp_path.name[-20:]}".lower().replace("-", "_")
    postgres.create_database(database)
    postgres.psql(
        "create schema crm; create table crm.customers as select i as id, 'C' || (i % 40) "
        f"as country_code from generate_series(1, {CUSTOMERS}) i; analyze crm.customers;"
        # Too small for autovacuum to analyze it: PostgreSQL has no statistics for it.
        "create table crm.fresh as select 1 as id;",
        database,
    )
    sqlite_file = tmp_path / "shop.sqlite"
    orders = [(i, i % 300) for i in range(ORDERS)]
    sqlite_table(sqlite_file, "orders", "order_id integer, customer_id integer", orders)
    project = Project(tmp_path / "project").write(FILES)
    project.profiles(
        {
            "pg": pg_output(postgres, database, "analytics"),
            "duck": duck_output(tmp_path / "lake.duckdb", "lake"),
            "shop": {"type": "sqlite", "path": str(sqlite_file)},
        },
        "pg",
    )
    built = project.dvt("run", "--select", "countries")
    assert built.success, built.exception
    return project


def plan(project: Project, logs: Path, *args: str) -> list[str]:
    """`dvt plan` lines, with a debug log of everything it ran in `logs`."""
    planned = project.dvt(
        "plan",
        "--select",
        "customer_orders+",
        "--log-path",
        str(logs),
        "--log-level-file",
        "debug",
        *args,
    )
    assert planned.success, planned.exception
    return list(planned.result)


def test_estimates_come_from_each_databases_statistics(est: Project, tmp_path: Path) -> None:
    rows = {
        r["unique_id"]: r
        for r in map(json.loads, plan(est, tmp_path / "json", "--estimate", "--output", "json"))
    }
    inputs = {i["unique_id"]: i for i in rows["model.est.customer_orders"]["inputs"]}
    customers = inputs["source.est.crm.customers"]
    assert (customers["target"], customers["kind"]) == ("pg", "estimate")
    assert abs(customers["rows"] - CUSTOMERS) <= CUSTOMERS * 0.05  # pg_class.reltuples
    assert inputs["model.est.countries"] == {
        "unique_id": "model.est.countries",
        "target": "duck",
        "rows": COUNTRIES,  # duckdb_tables().estimated_size
        "kind": "estimate",
    }
    assert inputs["source.est.shop.orders"] == {
        "unique_id": "source.est.shop.orders",
        "target": "shop",
        "rows": ORDERS,
        "kind": "exact",
        "note": "counted: SQLite keeps no statistics",
    }
    # A pushdown model's inputs: one not built yet, one never analyzed; the plan still succeeds.
    assert rows["model.est.top_customers"]["path"] == "pushdown"
    assert sorted(rows["model.est.top_customers"]["inputs"], key=lambda i: i["unique_id"]) == [
        {
            "unique_id": "model.est.customer_orders",
            "target": "pg",
            "rows": None,
            "kind": "unknown",
            "note": "does not exist yet",
        },
        {
            "unique_id": "source.est.crm.fresh",
            "target": "pg",
            "rows": None,
            "kind": "unknown",
            "note": "not analyzed yet",
        },
    ]

    text = plan(est, tmp_path / "text", "--estimate")
    block = text[text.index(next(line for line in text if line.startswith("Input rows"))) :]
    customers_line = next(line for line in block if "crm.customers on pg" in line)
    assert customers_line.endswith(" rows (estimate)") and "~1," in customers_line
    assert "    countries on duck: ~40 rows (estimate)" in block
    assert "    shop.orders on shop: 250 rows (exact, counted: SQLite keeps no statistics)" in block
    assert "    customer_orders on pg: unknown (does not exist yet)" in block
    assert "    crm.fresh on pg: unknown (not analyzed yet)" in block
    assert block.index("  customer_orders") < block.index("  top_customers")
    # `dvt debug` reads the SQLite file through the same scanner.
    checked = est.cli("dvt", "debug")
    line = next(text for text in checked.stdout.splitlines() if "  shop (sqlite) [" in text)
    assert "OK" in line and "read through DuckDB's sqlite scanner" in line, checked.stdout[-2000:]


def test_plan_without_estimate_asks_no_database_for_statistics(
    est: Project, tmp_path: Path
) -> None:
    plain = plan(est, tmp_path / "plain")
    plain_json = [json.loads(line) for line in plan(est, tmp_path / "plain", "--output", "json")]
    assert not any(line.startswith("Input rows") for line in plain)
    assert all("inputs" not in row for row in plain_json)
    plain_log = (tmp_path / "plain" / "dbt.log").read_text()
    plan(est, tmp_path / "estimated", "--estimate")
    estimated_log = (tmp_path / "estimated" / "dbt.log").read_text()
    # The statistics queries are in the debug log when asked for, and only then.
    for marker in ("Reading row statistics", "reltuples", "duckdb_tables()", "select count(*)"):
        assert marker in estimated_log, marker
        assert marker not in plain_log, marker


@pytest.mark.mysql
def test_mysql_estimates_come_from_information_schema(
    postgres: PostgresServer, mariadb: MariaDBServer, tmp_path: Path
) -> None:
    shop = f"shop_{tmp_path.name[-16:]}".lower().replace("-", "_")
    mariadb.sql(
        f"create database {shop}; create table {shop}.orders (id int primary key) engine=InnoDB;"
        f"insert into {shop}.orders with recursive s(n) as (select 1 union all select n + 1 "
        f"from s where n < 500) select n from s; analyze table {shop}.orders;"
        f"create view {shop}.big_orders as select * from {shop}.orders where id > 100"
    )
    database = f"my_{tmp_path.name[-20:]}".lower().replace("-", "_")
    postgres.create_database(database)
    project = Project(tmp_path / "project").write(
        {
            "dbt_project.yml": dbt_project_yml("myest"),
            "models/sources.yml": (
                f"sources:\n  - name: shop\n    schema: {shop}\n    config: {{connection: shop}}\n"
                "    tables: [{name: orders}, {name: big_orders}, {name: gone}]\n"
            ),
            "models/orders_copy.sql": (
                "select o.id from {{ source('shop', 'orders') }} o "
                "join {{ source('shop', 'big_orders') }} b on b.id = o.id "
                "join {{ source('shop', 'gone') }} g on g.id = o.id"
            ),
        }
    )
    project.profiles(
        {
            "pg": pg_output(postgres, database, "analytics"),
            "shop": {
                "type": "mysql",
                "host": mariadb.host,
                "port": mariadb.port,
                "user": mariadb.user,
                "password": mariadb.password,
                "database": shop,
            },
        },
        "pg",
    )
    planned = project.dvt("plan", "--estimate", "--output", "json")
    assert planned.success, planned.exception
    (row,) = map(json.loads, planned.result)
    inputs = {i["unique_id"].rsplit(".", 1)[1]: i for i in row["inputs"]}
    assert inputs["orders"]["kind"] == "estimate"
    assert abs(inputs["orders"]["rows"] - 500) <= 50  # InnoDB's TABLE_ROWS is approximate
    assert inputs["big_orders"] == {
        "unique_id": "source.myest.shop.big_orders",
        "target": "shop",
        "rows": None,
        "kind": "unknown",
        "note": "a view keeps no statistics",
    }
    assert inputs["gone"]["note"] == "does not exist yet"
    assert mariadb.password not in planned.result[0]
    # `dvt debug` reads the same connection through DuckDB's MySQL scanner.
    checked = project.cli("dvt", "debug")
    line = next(text for text in checked.stdout.splitlines() if "  shop (mysql) [" in text)
    assert "OK" in line and "read through DuckDB's mysql scanner" in line, checked.stdout[-2000:]
    assert mariadb.password not in checked.stdout
