"""Federation on the embedded DuckDB engine: models whose inputs span PostgreSQL, DuckDB and
SQLite targets give the rows the same model gives on one engine (DESIGN.md section 6)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import duckdb
import pytest

from tests.functional.databases import duck_rows, pg_rows, sqlite_table
from tests.functional.projects import Project, dbt_project_yml, duck_output, pg_output
from tests.servers.postgres import PostgresServer

pytestmark = [pytest.mark.postgres, pytest.mark.duckdb, pytest.mark.sqlite]

FILES = {
    "dbt_project.yml": dbt_project_yml("fed", "models:\n  fed:\n    lake:\n      +target: duck\n"),
    "models/sources.yml": """\
        sources:
          - name: crm
            schema: crm
            tables: [{name: customers}]
          - name: shop
            schema: main
            config: {connection: shop_sqlite}
            tables: [{name: orders}]
        """,
    "models/lake/duck_countries.sql": """\
        {{ config(materialized='table') }}
        select * from (values ('NZ', 'New Zealand'), ('FR', 'France'), ('US', 'United States')) as t(code, country)
        """,
    "models/customer_orders.sql": """\
        {{ config(materialized='table') }}
        select c.id, c.name, k.country, count(o.order_id) as orders,
               cast(sum(o.amount) as integer) as revenue
        from {{ source('crm', 'customers') }} c
        join {{ ref('duck_countries') }} k on k.code = c.country_code
        left join {{ source('shop', 'orders') }} o on o.customer_id = c.id
        where c.active
        group by c.id, c.name, k.country
        """,
    "models/lake/big_orders.sql": """\
        {{ config(materialized='view') }}
        select o.order_id, o.amount, c.name
        from {{ source('shop', 'orders') }} o
        join {{ source('crm', 'customers') }} c on c.id = o.customer_id
        where o.amount >= 50
        """,
    "models/lake/active_customers.sql": """\
        {{ config(materialized='ephemeral') }}
        select id, name from {{ source('crm', 'customers') }} where active
        """,
    "models/lake/active_big_spenders.sql": """\
        {{ config(materialized='table') }}
        select a.name, sum(o.amount) as spent
        from {{ ref('active_customers') }} a
        join {{ source('shop', 'orders') }} o on o.customer_id = a.id
        group by a.name
        having sum(o.amount) > 50
        """,
    "models/lake/orders_incremental.sql": """\
        {{ config(materialized='incremental', unique_key='order_id') }}
        select order_id, customer_id, amount from {{ source('shop', 'orders') }}
        {% if is_incremental() %}
        where order_id > (select max(order_id) from {{ this }})
        {% endif %}
        """,
}


@pytest.fixture
def fed(postgres: PostgresServer, tmp_path: Path) -> Project:
    database = f"fed_{tmp_path.name[-20:]}".lower().replace("-", "_")
    postgres.create_database(database)
    postgres.psql(
        "create schema crm; create table crm.customers (id int primary key, name text, "
        "country_code text, active boolean, secret text);"
        "insert into crm.customers values (1, 'Ann', 'NZ', true, 'x'), (2, 'Bob', 'US', true, 'y'),"
        " (3, 'Chloé', 'FR', false, 'z'), (4, 'Dee', 'FR', true, null);",
        database,
    )
    sqlite_file = tmp_path / "shop.sqlite"
    sqlite_table(
        sqlite_file,
        "orders",
        "order_id integer, customer_id integer, amount integer, note text",
        [
            (100, 1, 20, "a"),
            (101, 1, 35, "b"),
            (102, 2, 12, None),
            (103, 3, 99, "c"),
            (104, 2, 60, "d"),
        ],
    )
    duck_file = tmp_path / "lake.duckdb"
    project = Project(tmp_path / "project").write(FILES)
    project.profiles(
        {
            "pg": pg_output(postgres, database, "analytics"),
            "duck": duck_output(duck_file, "lake"),
            "shop_sqlite": {"type": "sqlite", "path": str(sqlite_file)},
        },
        "pg",
    )
    project.database = database  # type: ignore[attr-defined]
    project.duck_file = duck_file  # type: ignore[attr-defined]
    project.sqlite_file = sqlite_file  # type: ignore[attr-defined]
    return project


def test_cross_target_models_give_the_single_engine_answer(
    fed: Project, postgres: PostgresServer
) -> None:
    result = fed.dvt("run")
    assert result.success, result.exception
    by_id = {r.node.unique_id: r for r in result.result.results}
    assert by_id["model.fed.customer_orders"].adapter_response["dvt"]["path"] == "federation"
    database = fed.database  # type: ignore[attr-defined]
    assert pg_rows(postgres, database, "analytics.customer_orders") == [
        (1, "Ann", "New Zealand", 2, 55),
        (2, "Bob", "United States", 2, 72),
        (4, "Dee", "France", 0, None),
    ]
    duck_file = fed.duck_file  # type: ignore[attr-defined]
    assert duck_rows(duck_file, "lake.lake.big_orders") == [
        (103, 99, "Chloé"),
        (104, 60, "Bob"),
    ]
    # The view became a table, with warning DVT001.
    with duckdb.connect(str(duck_file)) as conn:
        kinds = dict(
            conn.execute(
                "select table_name, table_type from information_schema.tables where table_schema='lake'"
            ).fetchall()
        )
    assert kinds["big_orders"] == "BASE TABLE"
    assert "__dvt_" not in " ".join(kinds)
    assert not pg_rows(
        postgres, database, "information_schema.tables where table_name like '%\\_\\_dvt\\_%'"
    )


def test_only_needed_rows_and_columns_are_read(fed: Project) -> None:
    result = fed.dvt("run", "--select", "big_orders", "+customer_orders")
    assert result.success, result.exception
    by_id = {
        r.node.unique_id: r.adapter_response["dvt"]
        for r in result.result.results
        if "dvt" in r.adapter_response
    }
    extractions = {e["input"]: e["sql"] for e in by_id["model.fed.big_orders"]["extractions"]}
    orders_sql = extractions["source.fed.shop.orders"]
    assert "note" not in orders_sql and "amount" in orders_sql and ">= 50" in orders_sql
    customers_sql = extractions["source.fed.crm.customers"]
    assert "secret" not in customers_sql and "country_code" not in customers_sql
    # Count what each source returned, not what the model output.
    rows_read = {e["input"]: e["rows"] for e in by_id["model.fed.big_orders"]["extractions"]}
    assert rows_read == {"source.fed.shop.orders": 2, "source.fed.crm.customers": 4}
    # On its target, a model imports only its remote inputs: customers live on PostgreSQL.
    customer_orders = by_id["model.fed.customer_orders"]
    assert customer_orders["placement"] == "target"
    extractions = {e["input"]: e["sql"] for e in customer_orders["extractions"]}
    assert set(extractions) == {"source.fed.shop.orders", "model.fed.duck_countries"}
    # The outer join's null-supplying side keeps no pushed filter.
    assert "WHERE" not in extractions["source.fed.shop.orders"]
    assert all("__dvt_in" in e["import"] for e in customer_orders["extractions"])


def test_the_engine_reads_only_needed_rows(fed: Project) -> None:
    """In the engine, every input is read, each with its own pushed filter."""
    result = fed.dvt("run", "--select", "active_big_spenders", "--placement", "engine")
    assert result.success, result.exception
    (node,) = [r.adapter_response["dvt"] for r in result.result.results]
    assert node["placement"] == "engine" and node["engine_sql"]
    extractions = {e["input"]: e for e in node["extractions"]}
    customers = extractions["source.fed.crm.customers"]
    assert "WHERE" in customers["sql"] and "active" in customers["sql"]
    assert customers["rows"] == 3  # `where active` ran on PostgreSQL


def test_incremental_reads_only_new_rows(fed: Project) -> None:
    first = fed.dvt("run", "--select", "orders_incremental")
    assert first.success, first.exception
    with sqlite3.connect(fed.sqlite_file) as conn:  # type: ignore[attr-defined]
        conn.execute("insert into orders values (105, 4, 7, 'e')")
    second = fed.dvt("run", "--select", "orders_incremental")
    assert second.success, second.exception
    (dvt,) = [r.adapter_response["dvt"] for r in second.result.results]
    (extraction,) = dvt["extractions"]
    assert "104" in extraction["sql"]  # max(order_id) of the target, pushed into the source read
    assert extraction["rows"] == 1
    rows = duck_rows(fed.duck_file, "lake.lake.orders_incremental")  # type: ignore[attr-defined]
    assert [r[0] for r in rows] == [100, 101, 102, 103, 104, 105]


def test_plan_shows_federated_sql(fed: Project) -> None:
    planned = fed.dvt("plan", "--output", "json", "--select", "customer_orders")
    assert planned.success, planned.exception
    (row,) = [json.loads(line) for line in planned.result]
    assert row["path"] == "federation" and row["input_targets"] == ["duck", "pg", "shop_sqlite"]
    # duck_countries is not built yet, so the SQL cannot be planned; the plan says why.
    assert "duck_countries" in row["plan_error"]
    assert fed.dvt("run", "--select", "duck_countries").success
    planned = fed.dvt("plan", "--output", "json", "--select", "customer_orders")
    (row,) = [json.loads(line) for line in planned.result]
    assert row["placement"]["placement"] == "target"
    reads = {e["target"]: e["sql"] for e in row["extractions"]}
    assert set(reads) == {"duck", "shop_sqlite"}  # customers live on the target, pg
    assert '"code"' in reads["duck"] and '"country"' in reads["duck"]
    assert row["engine_sql"] is None
    planned = fed.dvt(
        "plan", "--output", "json", "--select", "active_big_spenders", "--placement", "engine"
    )
    (row,) = [json.loads(line) for line in planned.result]
    reads = {e["target"]: e["sql"] for e in row["extractions"]}
    assert reads["pg"].startswith("SELECT ") and reads["pg"].endswith("WHERE active")
    assert '"name"' in reads["pg"] and "secret" not in reads["pg"]
    assert "dvt_in_" in row["engine_sql"]


def test_plan_text_shows_each_read_and_the_engine_sql(fed: Project) -> None:
    shown = fed.cli("dvt", "plan", "--select", "big_orders")
    assert shown.returncode == 0, shown.stdout[-3000:]
    assert "big_orders: federation -> duck, computed on duck" in shown.stdout
    assert 'import from pg: SELECT "name", "id" FROM "crm"."customers"' in shown.stdout
    assert "then the model's own SQL runs on duck" in shown.stdout
    assert _table_row(shown.stdout, "big_orders")[-2:] == ["on", "duck"]
    engine = fed.cli("dvt", "plan", "--select", "big_orders", "--placement", "engine")
    assert "big_orders: federation -> duck, computed in the engine (duckdb)" in engine.stdout
    assert _table_row(engine.stdout, "big_orders")[-1] == "duckdb"
    assert 'read from pg: SELECT "name", "id" FROM "crm"."customers"' in engine.stdout
    assert "engine: SELECT" in engine.stdout and "dvt_in_0" in engine.stdout


def _table_row(stdout: str, node: str) -> list[str]:
    """The cells of `node`'s row in `dvt plan`'s table."""
    (row,) = [line.split() for line in stdout.splitlines() if line.startswith(f"{node} ")]
    return row


def test_build_plans_first_starts_the_engine_once_and_summarises(fed: Project) -> None:
    built = fed.cli("dvt", "build")
    assert built.returncode == 0, built.stdout[-3000:]
    plan_lines = [line for line in built.stdout.splitlines() if "Build plan" in line]
    assert len(plan_lines) == 1 and plan_lines[0].endswith(
        "Build plan: 0 seeds, 5 models (1 pushdown, 4 federation) + 1 ephemeral, 0 tests, "
        "0 snapshots"
    ), plan_lines
    assert built.stdout.count("Initializing duckdb compute for federation...") == 1
    assert "Build complete in" in built.stdout and "models: 5/5" in built.stdout
    assert "federation [duck, pg, shop_sqlite] -> pg 3 rows" in built.stdout
    pushdown_only = fed.cli("dvt", "build", "--select", "duck_countries")
    assert pushdown_only.returncode == 0
    assert "Initializing" not in pushdown_only.stdout


def test_the_engine_and_connections_open_while_dbt_starts(fed: Project) -> None:
    """A thread opens what the federated nodes need (the reader engine, the DuckDB database,
    PostgreSQL's ATTACH and a load connection, the COPY encoder in the DuckDB database it
    imports from) beside dbt's own start: no node waits for it."""
    run = fed.cli("dvt", "run")
    assert run.returncode == 0, run.stdout[-3000:]
    log = (fed.root / "logs" / "dbt.log").read_text()
    starts = [line for line in log.splitlines() if "Initializing duckdb compute" in line]
    assert len(starts) == 1 and "[dvt-warm-u]" in starts[0], starts
    warmed = [line for line in log.splitlines() if "[dvt-warm-u]" in line]
    assert any("Acquiring new duckdb connection" in line for line in warmed), warmed
    for target in ("pg", "duck", "shop_sqlite"):
        assert any(f"Opened '{target}' for the federated nodes" in line for line in warmed), warmed
    # The COPY encoder that imports from DuckDB into PostgreSQL need, loaded into the DuckDB
    # database (a source-only SQLite input needs nothing).
    assert any("Opened what imports from 'duck' into 'pg' need" in line for line in warmed), warmed
    assert not any("from 'shop_sqlite' into 'pg'" in line for line in warmed), warmed


def test_parallel_threads_give_the_same_rows(fed: Project, postgres: PostgresServer) -> None:
    database = fed.database  # type: ignore[attr-defined]
    duck_file = fed.duck_file  # type: ignore[attr-defined]

    def snapshot() -> tuple[object, ...]:
        return (
            pg_rows(postgres, database, "analytics.customer_orders"),
            duck_rows(duck_file, "lake.lake.big_orders"),
            duck_rows(duck_file, "lake.lake.orders_incremental"),
        )

    serial = fed.dvt("run", "--threads", "1", "--full-refresh")
    assert serial.success, serial.exception
    expected = snapshot()
    parallel = fed.dvt("run", "--threads", "4", "--full-refresh")
    assert parallel.success, parallel.exception
    assert snapshot() == expected


CROSS_TARGET_TESTS = """\
models:
  - name: big_orders
    columns:
      - name: name
        data_tests:
          - relationships:
              arguments: {to: "source('crm', 'customers')", field: name}
      - name: order_id
        data_tests:
          - relationships:
              arguments: {to: "source('crm', 'customers')", field: id}
"""

CROSS_TARGET_SNAPSHOT = """\
snapshots:
  - name: customers_history
    relation: source('crm', 'customers')
    config:
      target: duck
      unique_key: id
      strategy: check
      check_cols: [name, active]
"""


def test_tests_and_snapshots_across_targets(fed: Project, postgres: PostgresServer) -> None:
    fed.write(
        {"models/tests.yml": CROSS_TARGET_TESTS, "snapshots/history.yml": CROSS_TARGET_SNAPSHOT}
    )
    built = fed.dvt("build", "--select", "big_orders+", "customers_history")
    assert not built.success, built.exception  # one relationships test fails on the data
    assert built.result is not None, built.exception
    by_name = {r.node.name: r for r in built.result.results}
    passing = by_name["relationships_big_orders_name__name__source_crm_customers_"]
    failing = by_name["relationships_big_orders_order_id__id__source_crm_customers_"]
    assert str(passing.status) == "pass" and passing.adapter_response["dvt"]["path"] == "federation"
    assert str(failing.status) == "fail" and failing.failures == 2  # orders 103 and 104
    assert by_name["customers_history"].adapter_response["dvt"]["target"] == "duck"
    postgres.psql("update crm.customers set name = 'Annie' where id = 1", fed.database)  # type: ignore[attr-defined]
    again = fed.dvt("snapshot")
    assert again.success, again.exception
    history = duck_rows(fed.duck_file, "lake.lake.customers_history")  # type: ignore[attr-defined]
    assert sorted((r[0], r[1]) for r in history) == [
        (1, "Ann"),
        (1, "Annie"),
        (2, "Bob"),
        (3, "Chloé"),
        (4, "Dee"),
    ]
    closed = [r for r in history if r[1] == "Ann"]
    assert closed[0][-1] is not None  # dbt_valid_to set on the replaced version


def test_show_federates_without_writing(fed: Project, postgres: PostgresServer) -> None:
    assert fed.dvt("run", "--select", "duck_countries").success
    inline = (
        "select c.name, k.country from {{ source('crm', 'customers') }} c "
        "join {{ ref('duck_countries') }} k on k.code = c.country_code order by c.name"
    )
    shown = fed.dvt("show", "--inline", inline, "--limit", "2")
    assert shown.success, shown.exception
    (result,) = shown.result.results
    assert [tuple(r) for r in result.agate_table.rows] == [
        ("Ann", "New Zealand"),
        ("Bob", "United States"),
    ]
    assert result.adapter_response["dvt"]["path"] == "federation"
    selected = fed.dvt("show", "--select", "customer_orders", "--limit", "-1")
    assert selected.success, selected.exception
    assert sorted(r[0] for r in selected.result.results[0].agate_table.rows) == [1, 2, 4]
    database = fed.database  # type: ignore[attr-defined]
    assert "customer_orders" not in {
        r[0] for r in pg_rows(postgres, database, "information_schema.tables")
    }
