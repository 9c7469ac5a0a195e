"""A project in the shape of dbt-labs' jaffle_shop (written here, with data of our own): raw
seeds, staging views, two marts (one pivots payments per method with a Jinja loop), and the
usual generic tests. `dvt build` gives what `dbt build` gives on PostgreSQL and on DuckDB:
statuses, exit code, relations and rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.functional.databases import duck_relations, duck_rows, pg_relations, pg_rows
from tests.functional.projects import Project, pg_output

FILES = {
    "dbt_project.yml": """\
        name: jaffle_shop
        version: '1.0'
        profile: test
        config-version: 2
        model-paths: [models]
        seed-paths: [seeds]
        models:
          jaffle_shop:
            +materialized: table
            staging:
              +materialized: view
        """,
    "seeds/raw_customers.csv": """\
        id,first_name,last_name
        1,Aroha,W.
        2,Bram,K.
        3,Chiara,R.
        4,Dmitri,S.
        5,Eun-ji,P.
        """,
    "seeds/raw_orders.csv": """\
        id,user_id,order_date,status
        1,1,2024-01-01,returned
        2,3,2024-01-02,completed
        3,1,2024-01-04,completed
        4,2,2024-01-05,return_pending
        5,3,2024-01-05,shipped
        6,1,2024-01-07,placed
        7,4,2024-01-09,completed
        """,
    "seeds/raw_payments.csv": """\
        id,order_id,payment_method,amount
        1,1,credit_card,1000
        2,2,credit_card,2000
        3,3,coupon,100
        4,4,coupon,2500
        5,5,bank_transfer,1700
        6,6,credit_card,600
        7,7,credit_card,1600
        8,7,gift_card,300
        9,3,gift_card,250
        """,
    "models/staging/stg_customers.sql": """\
        select id as customer_id, first_name, last_name from {{ ref('raw_customers') }}
        """,
    "models/staging/stg_orders.sql": """\
        select id as order_id, user_id as customer_id, order_date, status
        from {{ ref('raw_orders') }}
        """,
    "models/staging/stg_payments.sql": """\
        select id as payment_id, order_id, payment_method,
               amount / 100 as amount  -- cents to dollars
        from {{ ref('raw_payments') }}
        """,
    "models/staging/schema.yml": """\
        models:
          - name: stg_customers
            columns:
              - name: customer_id
                data_tests: [unique, not_null]
          - name: stg_orders
            columns:
              - name: order_id
                data_tests: [unique, not_null]
              - name: status
                data_tests:
                  - accepted_values:
                      arguments:
                        values: ['placed', 'shipped', 'completed', 'return_pending', 'returned']
          - name: stg_payments
            columns:
              - name: payment_id
                data_tests: [unique, not_null]
              - name: payment_method
                data_tests:
                  - accepted_values:
                      arguments:
                        values: ['credit_card', 'coupon', 'bank_transfer', 'gift_card']
        """,
    "models/customers.sql": """\
        with customers as (select * from {{ ref('stg_customers') }}),
        orders as (select * from {{ ref('stg_orders') }}),
        payments as (select * from {{ ref('stg_payments') }}),
        customer_orders as (
            select customer_id, min(order_date) as first_order, max(order_date) as most_recent_order,
                   count(order_id) as number_of_orders
            from orders group by customer_id
        ),
        customer_payments as (
            select orders.customer_id, sum(payments.amount) as total_amount
            from payments left join orders on payments.order_id = orders.order_id
            group by orders.customer_id
        )
        select customers.customer_id, customers.first_name, customers.last_name,
               customer_orders.first_order, customer_orders.most_recent_order,
               customer_orders.number_of_orders,
               customer_payments.total_amount as customer_lifetime_value
        from customers
        left join customer_orders on customers.customer_id = customer_orders.customer_id
        left join customer_payments on customers.customer_id = customer_payments.customer_id
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
        )
        select orders.order_id, orders.customer_id, orders.order_date, orders.status,
               {% for payment_method in payment_methods -%}
               order_payments.{{ payment_method }}_amount,
               {% endfor -%}
               order_payments.total_amount as amount
        from orders left join order_payments on orders.order_id = order_payments.order_id
        """,
    "models/schema.yml": """\
        models:
          - name: customers
            columns:
              - name: customer_id
                data_tests: [unique, not_null]
          - name: orders
            columns:
              - name: order_id
                data_tests: [unique, not_null]
              - name: customer_id
                data_tests:
                  - not_null
                  - relationships:
                      arguments: {to: ref('customers'), field: customer_id}
              - name: amount
                data_tests: [not_null]
        """,
}


def contents(kind: str, where: Any) -> dict[str, Any]:
    """Every relation of the project's schema and its rows."""
    if kind == "postgres":
        server, database = where
        names = pg_relations(server, database, "jaffle")
        return {n: pg_rows(server, database, f'jaffle."{n}"') for n in names}
    names = duck_relations(where, "jaffle")
    return {n: duck_rows(where, f'jaffle."{n}"') for n in names}


@pytest.mark.postgres
@pytest.mark.duckdb
@pytest.mark.parametrize("kind", ["postgres", "duckdb"])
def test_jaffle_shop_builds_identically_under_dvt_and_dbt(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    built: dict[str, Any] = {}
    for tool in ("dbt", "dvt"):
        project = Project(tmp_path / tool).write(FILES)
        if kind == "postgres":
            server = request.getfixturevalue("postgres")
            database = f"jaffle_{tool}_{tmp_path.name[-20:]}".lower().replace("-", "_")
            server.create_database(database)
            project.profiles({"pg": pg_output(server, database, "jaffle")}, "pg")
            where: Any = (server, database)
        else:
            where = tmp_path / f"{tool}.duckdb"
            project.profiles(
                {"duck": {"type": "duckdb", "path": str(where), "schema": "jaffle", "threads": 4}},
                "duck",
            )
        result = project.cli(tool, "build")
        built[tool] = (result.returncode, project.statuses(), contents(kind, where))
    dbt_exit, dbt_statuses, dbt_contents = built["dbt"]
    assert dbt_exit == 0 and set(dbt_statuses.values()) == {"success", "pass"}
    assert len(dbt_statuses) == 3 + 5 + 15  # seeds, models, tests
    assert built["dvt"] == built["dbt"]
    orders = {row[0]: row for row in dbt_contents["orders"]}
    # `amount / 100` is integer division on PostgreSQL, not on DuckDB: each tool keeps its own.
    assert orders[3][4:] == {"postgres": (0, 1, 0, 2, 3), "duckdb": (0, 1, 0, 2.5, 3.5)}[kind]
    assert len(dbt_contents["customers"]) == 5
