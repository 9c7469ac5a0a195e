"""`placement.choose` on planned queries: a target that joins a CTE read more than once without
its statistics (PostgreSQL) counts that query's work there at its connector's factor, and one
that runs a correlated subquery once per outer row counts the rows of both sides."""

from __future__ import annotations

import dataclasses

from dvt.connectors.duckdb import DuckDBConnector
from dvt.connectors.postgres import PostgresConnector
from dvt.planning import placement
from dvt.planning.models import PlanInput, RelationKey
from dvt.planning.planner import plan_federation

SALES = PlanInput(RelationKey("pg", "public", "sales"), "pg", "source.p.app.sales")
DAYS = PlanInput(RelationKey("lake", "main", "days"), "duck", "source.p.lake.days")
SCHEMAS = {
    SALES.key: [("day_id", "int"), ("store", "int"), ("price", "numeric(7,2)")],
    DAYS.key: [("day_id", "int"), ("week", "int")],
}
WEEKLY = (
    "with weekly as (select d.week, s.store, sum(s.price) total from pg.public.sales s "
    "join lake.main.days d on d.day_id = s.day_id group by d.week, s.store) "
)
#: The same weekly totals: read twice (this year against last), or once.
TWICE = WEEKLY + (
    "select a.store, a.week, a.total, b.total from weekly a join weekly b "
    "on a.store = b.store and a.week = b.week - 52"
)
ONCE = WEEKLY + "select store, week, total from weekly where week > 52"
#: Row estimates of the inputs: 30,000 sales, 73,000 days (TPC-DS sf 0.01's sizes).
ROWS = {SALES.unique_id: 30_000, DAYS.unique_id: 73_000}


def costs(factor: float | None = None) -> dict[str, placement.Costs]:
    def of(connector: type) -> placement.Costs:
        return placement.Costs(
            connector.read_cost,
            connector.write_cost,
            connector.compute_cost,
            connector.reused_cte_factor if factor is None else factor,
            connector.correlated_subquery_cost,
        )

    return {"pg": of(PostgresConnector), "duck": of(DuckDBConnector)}


def choose(sql: str, factor: float | None = None) -> placement.Choice:
    plan = plan_federation(sql, "postgres", [SALES, DAYS], SCHEMAS, model="model.p.m")  # type: ignore[arg-type]
    assert plan.engine_refusal is None
    return placement.choose("auto", plan, "pg", ROWS, costs(factor), model="model.p.m")


def test_a_cte_read_twice_on_postgresql_goes_to_the_engine() -> None:
    chosen = choose(TWICE)
    assert chosen.placement == "engine", chosen.reason
    assert "a CTE read more than once" in chosen.reason


def test_the_same_query_without_the_factor_or_reading_the_cte_once_stays_on_the_target() -> None:
    assert choose(TWICE, factor=1.0).placement == "target"
    once = choose(ONCE)
    assert once.placement == "target", once.reason
    assert "CTE" not in once.reason


#: A day against the average of its week's days (a correlated scalar subquery, as TPC-DS q06
#: and q41 write them), over inputs that all live off the target: a small query on PostgreSQL
#: but for running the subquery once per day.
CORRELATED = (
    "select d.day_id from lake.main.days d where d.week > "
    "(select avg(e.week) from lake.main.days e where e.day_id = d.day_id)"
)
#: The same rows, through an EXISTS that PostgreSQL turns into a semi-join.
SEMI_JOIN = (
    "select d.day_id from lake.main.days d where exists "
    "(select 1 from lake.main.days e where e.day_id = d.day_id and e.week < d.week)"
)


def test_a_correlated_subquery_names_what_each_side_reads() -> None:
    plan = plan_federation(CORRELATED, "postgres", [SALES, DAYS], SCHEMAS, model="model.p.m")  # type: ignore[arg-type]
    (subquery,) = plan.correlated
    assert [s.inputs for s in subquery.outer] == [(DAYS.unique_id,)]
    assert [s.inputs for s in subquery.inner] == [(DAYS.unique_id,)]
    grouped = plan_federation(
        WEEKLY + "select a.store from weekly a where a.total > "
        "(select avg(b.total) from weekly b where b.week = a.week)",
        "postgres",
        [SALES, DAYS],
        SCHEMAS,  # type: ignore[arg-type]
        model="model.p.m",
    )
    (subquery,) = grouped.correlated
    assert subquery.outer[0].aggregated and subquery.inner[0].aggregated
    assert set(subquery.inner[0].inputs) == {SALES.unique_id, DAYS.unique_id}


def test_a_correlated_subquery_on_postgresql_goes_to_the_engine() -> None:
    chosen = choose(CORRELATED)
    assert chosen.placement == "engine", chosen.reason
    assert "a correlated subquery once per outer row" in chosen.reason


def test_a_semi_join_or_a_target_that_joins_subqueries_stays_on_the_target() -> None:
    semi = choose(SEMI_JOIN)
    assert semi.placement == "target", semi.reason
    assert "correlated" not in semi.reason
    plan = plan_federation(CORRELATED, "postgres", [SALES, DAYS], SCHEMAS, model="model.p.m")  # type: ignore[arg-type]
    joins = {**costs(), "pg": dataclasses.replace(costs()["pg"], correlated=0.0)}
    assert placement.choose("auto", plan, "pg", ROWS, joins, model="m").placement == "target"
