"""The planner never changes an answer: generated queries over two inputs, run whole on one
DuckDB and run through the plan (each extraction, then the engine SQL), give the same rows."""

from __future__ import annotations

import duckdb
import pytest
import sqlglot.expressions as exp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dvt.planning.models import PlanInput, RelationKey
from dvt.planning.planner import plan_federation

A = PlanInput(RelationKey("memory", "src", "a"), "one", "source.t.src.a")
B = PlanInput(RelationKey("memory", "src", "b"), "two", "source.t.src.b")
SCHEMAS = {
    A.key: [("id", "INTEGER"), ("x", "INTEGER"), ("s", "VARCHAR")],
    B.key: [("id", "INTEGER"), ("y", "INTEGER"), ("t", "VARCHAR")],
}
ROWS_A = [(1, 10, "p"), (2, None, "q"), (3, 30, None), (4, 40, "p"), (None, 50, "r")]
ROWS_B = [(1, 5, "p"), (3, None, "z"), (5, 7, "q"), (None, 8, None), (4, 40, "p")]


@pytest.fixture(scope="module")
def db() -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect()
    conn.execute(
        "create schema src; create table src.a (id int, x int, s varchar); create table src.b (id int, y int, t varchar)"
    )
    conn.executemany("insert into src.a values (?, ?, ?)", ROWS_A)
    conn.executemany("insert into src.b values (?, ?, ?)", ROWS_B)
    return conn


def _predicate(alias: str, column: str, kind: str, value: int) -> str:
    if kind == "null":
        return f"{alias}.{column} is null"
    if kind == "notnull":
        return f"{alias}.{column} is not null"
    if kind == "text":
        return f"{alias}.{'s' if alias == 'a' else 't'} = 'p'"
    return f"{alias}.{column} {kind} {value}"


predicates = st.tuples(
    st.sampled_from(["a", "b"]),
    st.sampled_from(["id", "x", "y"]),
    st.sampled_from([">", "<", "=", "<>", "null", "notnull", "text"]),
    st.integers(0, 45),
).map(
    lambda p: _predicate(p[0], "id" if p[1] == "id" else ("x" if p[0] == "a" else "y"), p[2], p[3])
)

queries = st.builds(
    lambda join, conjuncts, use_or, shape: (join, conjuncts, use_or, shape),
    st.sampled_from(["join", "left join", "right join", "full join", "nested left"]),
    st.lists(predicates, min_size=0, max_size=3),
    st.booleans(),
    st.sampled_from(["rows", "group", "cte", "subquery"]),
)


def _sql(join: str, conjuncts: list[str], use_or: bool, shape: str) -> str:
    where = ""
    if conjuncts:
        glue = " or " if use_or and len(conjuncts) > 1 else " and "
        where = " where " + glue.join(f"({c})" for c in conjuncts)
    if join == "nested left":
        source = "memory.src.a a join (memory.src.b b left join memory.src.a a2 on a2.id = b.id) on b.id = a.id"
    else:
        source = f"memory.src.a a {join} memory.src.b b on a.id = b.id"
    if shape == "group":
        return f"select a.s, count(*) as n, sum(b.y) as total from {source}{where} group by a.s"
    if shape == "cte":
        return f"with j as (select a.id as aid, a.x, b.y from {source}{where}) select * from j where aid is not null or y > 1"
    if shape == "subquery":
        return f"select * from (select a.x, b.t from {source}{where}) q"
    return f"select a.id, a.x, a.s, b.id as bid, b.y, b.t from {source}{where}"


def _through_the_plan(db: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[object, ...]]:
    plan = plan_federation(sql, "duckdb", [A, B], SCHEMAS, model="model.t.m")
    cursor = db.cursor()
    for extraction in plan.extractions:
        key = extraction.input.key
        query = extraction.render(
            exp.table_(key.name, db=key.schema, catalog=key.catalog), "duckdb"
        )
        cursor.execute(f'create or replace temp view "{extraction.engine_name}" as {query}')
    return sorted(cursor.execute(plan.engine_sql).fetchall(), key=repr)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=queries)
def test_the_plan_gives_the_whole_query_answer(db: duckdb.DuckDBPyConnection, query: tuple) -> None:  # type: ignore[type-arg]
    sql = _sql(*query)
    expected = sorted(db.execute(sql).fetchall(), key=repr)
    assert _through_the_plan(db, sql) == expected, sql
