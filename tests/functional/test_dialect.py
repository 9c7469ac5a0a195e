"""`+dialect: postgres`: a jaffle_shop written for PostgreSQL, built on DuckDB, gives the same rows
as its PostgreSQL build (`dvt diff` says so); what cannot be carried over exactly is refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.functional.projects import Project, dbt_project_yml, duck_output, pg_output
from tests.servers.postgres import PostgresServer

pytestmark = [pytest.mark.postgres, pytest.mark.duckdb]

METHODS = ("credit_card", "coupon", "bank_transfer", "gift_card")
STATUSES = ("placed", "shipped", "completed", "return_pending", "returned")


def _seeds() -> dict[str, str]:
    customers = ["id,first_name,last_name"] + [
        f"{i},{name},{name[0]}." for i, name in enumerate(["Ann", "Bob", "Cy", "Di", "Ed"] * 4, 1)
    ]
    orders = ["id,user_id,order_date,status"] + [
        f"{i},{(i * 7) % 19 + 1},2018-{(i % 12) + 1:02d}-{(i % 27) + 1:02d},{STATUSES[i % 5]}"
        for i in range(1, 41)
    ]
    payments = ["id,order_id,payment_method,amount"] + [
        f"{i},{(i * 3) % 40 + 1},{METHODS[i % 4]},{(i * 937) % 3000}" for i in range(1, 61)
    ]
    return {
        "seeds/raw_customers.csv": "\n".join(customers) + "\n",
        "seeds/raw_orders.csv": "\n".join(orders) + "\n",
        "seeds/raw_payments.csv": "\n".join(payments) + "\n",
    }


JAFFLE = {
    "dbt_project.yml": dbt_project_yml(
        "jaffle_shop", "models:\n  jaffle_shop:\n    +dialect: postgres\n    +materialized: table\n"
    ),
    **_seeds(),
    "models/staging/stg_customers.sql": """\
        with source as (select * from {{ ref('raw_customers') }}),
        renamed as (select id as customer_id, first_name, last_name from source)
        select * from renamed
        """,
    "models/staging/stg_orders.sql": """\
        with source as (select * from {{ ref('raw_orders') }}),
        renamed as (
            select id as order_id, user_id as customer_id, order_date, status from source
        )
        select * from renamed
        """,
    "models/staging/stg_payments.sql": """\
        with source as (select * from {{ ref('raw_payments') }}),
        renamed as (
            select id as payment_id, order_id, payment_method,
                -- `amount` is stored in cents: PostgreSQL's integer division drops the rest
                amount / 100 as amount
            from source
        )
        select * from renamed
        """,
    "models/customers.sql": """\
        with customers as (select * from {{ ref('stg_customers') }}),
        orders as (select * from {{ ref('stg_orders') }}),
        payments as (select * from {{ ref('stg_payments') }}),
        customer_orders as (
            select customer_id, min(order_date) as first_order,
                max(order_date) as most_recent_order, count(order_id) as number_of_orders
            from orders group by customer_id
        ),
        customer_payments as (
            select orders.customer_id, sum(amount) as total_amount
            from payments left join orders on payments.order_id = orders.order_id
            group by orders.customer_id
        ),
        final as (
            select customers.customer_id, customers.first_name, customers.last_name,
                customer_orders.first_order, customer_orders.most_recent_order,
                customer_orders.number_of_orders,
                customer_payments.total_amount as customer_lifetime_value
            from customers
            left join customer_orders on customers.customer_id = customer_orders.customer_id
            left join customer_payments on customers.customer_id = customer_payments.customer_id
        )
        select * from final
        """,
    "models/orders.sql": """\
        {% set payment_methods = ['credit_card', 'coupon', 'bank_transfer', 'gift_card'] %}
        with orders as (select * from {{ ref('stg_orders') }}),
        payments as (select * from {{ ref('stg_payments') }}),
        order_payments as (
            select order_id,
                {% for payment_method in payment_methods -%}
                sum(case when payment_method = '{{ payment_method }}' then amount else 0 end)
                    as {{ payment_method }}_amount,
                {% endfor -%}
                sum(amount) as total_amount
            from payments group by order_id
        ),
        final as (
            select orders.order_id, orders.customer_id, orders.order_date, orders.status,
                extract(year from orders.order_date) as order_year,
                extract(month from orders.order_date) as order_month,
                case when orders.status in ('returned', 'return_pending') then 1 else 0 end
                    as is_return,
                {% for payment_method in payment_methods -%}
                order_payments.{{ payment_method }}_amount,
                {% endfor -%}
                order_payments.total_amount as amount
            from orders left join order_payments on orders.order_id = order_payments.order_id
        )
        select * from final
        """,
}

KEYS = {
    "stg_customers": "customer_id",
    "stg_orders": "order_id",
    "stg_payments": "payment_id",
    "customers": "customer_id",
    "orders": "order_id",
}


@pytest.fixture
def jaffle(postgres: PostgresServer, tmp_path: Path) -> Project:
    database = f"jaffle_{tmp_path.name[-20:]}".lower().replace("-", "_")
    postgres.create_database(database)
    duck_file = tmp_path / "jaffle.duckdb"
    project = Project(tmp_path / "project").write(JAFFLE)
    project.profiles(
        {"pg": pg_output(postgres, database, "analytics"), "duck": duck_output(duck_file)}, "pg"
    )
    project.duck_file = duck_file  # type: ignore[attr-defined]
    return project


def diff_json(project: Project, a: str, b: str, key: str) -> tuple[int, dict[str, Any]]:
    done = project.cli("dvt", "diff", a, b, "--key", key, "--output", "json", "--quiet")
    documents = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert documents, done.stdout + done.stderr
    return done.returncode, json.loads(documents[-1])


def test_jaffle_shop_written_for_postgres_gives_the_same_rows_on_duckdb(jaffle: Project) -> None:
    built = jaffle.cli("dvt", "build")
    assert built.returncode == 0, built.stdout
    moved = jaffle.cli("dvt", "build", "--target", "duck")
    assert moved.returncode == 0, moved.stdout
    # The integer division kept PostgreSQL's meaning: DuckDB's `/` would give 9.37.
    compiled = jaffle.root / "target" / "compiled" / "jaffle_shop" / "models" / "staging"
    assert "// 100 AS amount" in (compiled / "stg_payments.sql").read_text()
    for model, key in KEYS.items():
        code, found = diff_json(jaffle, model, f"{model}@duck", key)
        assert (code, found["identical"]) == (0, True), (model, found)
        assert found["a"]["target"] == "pg" and found["b"]["target"] == "duck"
        assert found["a"]["rows"] == found["b"]["rows"] > 0
        assert found["columns_only_in_a"] == found["columns_only_in_b"] == []

    import duckdb

    with duckdb.connect(str(jaffle.duck_file)) as conn:  # type: ignore[attr-defined]
        conn.execute(
            "update main.customers set customer_lifetime_value = customer_lifetime_value + 1 "
            "where customer_id = 3; delete from main.customers where customer_id = 4; "
            "insert into main.customers (customer_id, first_name) values (99, 'Zed')"
        )
        (value,) = conn.execute(
            "select customer_lifetime_value from main.customers where customer_id = 3"
        ).fetchone()
    code, found = diff_json(jaffle, "customers", "customers@duck", "customer_id")
    assert code == 1
    assert (found["rows_only_in_a"], found["rows_only_in_b"], found["rows_changed"]) == (1, 1, 1)
    assert found["changed_by_column"] == {"customer_lifetime_value": 1}
    assert found["samples"]["changed"] == [
        {
            "key": {"customer_id": "3"},
            "columns": {"customer_lifetime_value": [str(value - 1), str(value)]},
        }
    ]
    assert [r["customer_id"] for r in found["samples"]["only_in_a"]] == ["4"]
    assert [r["customer_id"] for r in found["samples"]["only_in_b"]] == ["99"]


def test_compile_writes_and_plan_shows_both_dialects(jaffle: Project) -> None:
    # The inputs' column types come from the database: before the seeds exist, nothing to type
    # (a compile error: exit 2, as dbt's own compile errors).
    early = jaffle.cli("dvt", "compile", "--target", "duck", "--select", "stg_payments")
    assert early.returncode == 2
    assert (
        "[DVT109] model.jaffle_shop.stg_payments (models/staging/stg_payments.sql)" in early.stdout
    )
    assert "seed.jaffle_shop.raw_payments cannot be read on target 'duck'" in early.stdout
    assert jaffle.cli("dvt", "seed", "--target", "duck").returncode == 0
    done = jaffle.cli("dvt", "compile", "--target", "duck", "--select", "stg_payments")
    assert done.returncode == 0, done.stdout
    compiled = jaffle.root / "target" / "compiled" / "jaffle_shop" / "models" / "staging"
    assert "// 100 AS amount" in (compiled / "stg_payments.sql").read_text()
    plan = jaffle.cli("dvt", "plan", "--target", "duck", "--select", "stg_payments")
    assert plan.returncode == 0, plan.stdout
    assert "stg_payments: written in postgres, runs on duck" in plan.stdout
    assert "amount / 100 as amount" in plan.stdout
    assert "// 100 AS amount" in plan.stdout
    # On PostgreSQL itself nothing is transpiled.
    plan = jaffle.cli("dvt", "plan", "--select", "stg_payments")
    assert "written in postgres" not in plan.stdout


def test_what_cannot_be_carried_over_is_refused_by_name(jaffle: Project) -> None:
    jaffle.write(
        {
            "models/monthly.sql": """\
                select date_trunc('month', order_date) as month, count(*) as orders
                from {{ ref('stg_orders') }} group by 1
                """,
        }
    )
    assert jaffle.cli("dvt", "build", "--target", "duck", "--select", "+stg_orders").returncode == 0
    done = jaffle.cli("dvt", "run", "--target", "duck", "--select", "monthly")
    assert done.returncode == 1
    assert "[DVT109]" in done.stdout
    assert "model.jaffle_shop.monthly (models/monthly.sql)" in done.stdout
    assert "date_trunc()" in done.stdout and "DATE_TRUNC('MONTH'" in done.stdout
    import duckdb

    with duckdb.connect(str(jaffle.duck_file)) as conn:  # type: ignore[attr-defined]
        tables = {r[0] for r in conn.execute("select table_name from duckdb_tables()").fetchall()}
    assert "monthly" not in tables
