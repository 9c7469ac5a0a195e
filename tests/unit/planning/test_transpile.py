"""A model written for PostgreSQL, carried over to DuckDB only where its meaning is kept."""

from __future__ import annotations

import pytest

from dvt.exceptions import DialectError
from dvt.planning.models import RelationKey
from dvt.planning.transpile import check_dialect, transpile

SCHEMAS = {
    RelationKey("lake", "main", "payments"): [
        ("id", "INT"),
        ("method", "VARCHAR"),
        ("amount", "INT"),
        ("paid_on", "DATE"),
    ]
}


def carried(sql: str) -> str:
    return transpile(sql, "postgres", "duckdb", SCHEMAS, node="model.m", target="duck")


def test_integer_division_keeps_postgres_meaning() -> None:
    sql = carried('select id, amount / 100 as dollars from "lake"."main"."payments"')
    assert "payments.amount // 100 AS dollars" in sql


def test_listed_constructs_are_carried_over() -> None:
    sql = carried(
        "select method, sum(case when method = 'coupon' then amount else 0 end) as coupons, "
        'extract(year from paid_on) as y from "lake"."main"."payments" group by 1, 3'
    )
    assert "SUM(CASE WHEN payments.method = 'coupon'" in sql
    assert "EXTRACT(YEAR FROM payments.paid_on)" in sql


def test_a_construct_off_the_list_is_refused_by_name() -> None:
    with pytest.raises(DialectError, match="DVT109") as refused:
        carried('select date_trunc(\'month\', paid_on) as m from "lake"."main"."payments"')
    message = str(refused.value)
    assert "model.m is written in postgres" in message and "target 'duck'" in message
    assert "date_trunc() of anything but a timestamp" in message


def test_a_dialect_that_names_nothing_is_refused() -> None:
    assert check_dialect("postgres", "model.m") == "postgres"
    with pytest.raises(DialectError, match="`dialect: 'postgress'`"):
        check_dialect("postgress", "model.m")
