"""`placement.choose` on planned queries: a target that joins a CTE read more than once without
its statistics (PostgreSQL) counts that query's work there at its connector's factor."""

from __future__ import annotations

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
