"""Which numeric results have one scale for every value (`numeric.fixed_scale`), traced through
CTEs, subqueries and set operations, and where a quotient may go: the planner's side of exact
numeric division (the values themselves are checked against PostgreSQL in
tests/functional/test_same_semantics.py)."""

from __future__ import annotations

import pytest

from dvt.planning.models import PlanInput, RelationKey
from dvt.planning.planner import plan_federation

FACTS = PlanInput(RelationKey("pg", "public", "facts"), "pg", "source.p.app.facts")
DIMS = PlanInput(RelationKey("lake", "main", "dims"), "duck", "source.p.lake.dims")
SCHEMAS = {
    FACTS.key: [("id", "int"), ("price", "numeric(7,2)"), ("rate", "numeric(5,4)")],
    DIMS.key: [("id", "int"), ("weight", "numeric(9,3)"), ("label", "text")],
}


#: Sums of quotients: each sum's scale is the largest of its quotients', which the rows decide.
SUMMED = "select id, sum(price / 2) total from pg.public.facts group by id"


def plan(sql: str):  # type: ignore[no-untyped-def]
    return plan_federation(sql, "postgres", [FACTS, DIMS], SCHEMAS, model="model.p.m")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "sql",
    [
        # a CTE's sum keeps its column's scale; the ratio of two is only compared
        "with s as (select id, sum(price) total from pg.public.facts group by id) "
        "select s.id from s join lake.main.dims d on d.id = s.id where s.total / d.weight > 1.5",
        # a derived table, and a CASE whose branches share one scale
        "select x.id from (select id, case when id > 0 then price else null end p "
        "from pg.public.facts) x join lake.main.dims d on d.id = x.id where x.p / 2 < d.weight",
        # avg() in a correlated scalar subquery, scaled by a constant
        "select f.id from pg.public.facts f join lake.main.dims d on d.id = f.id "
        "where f.price > (select avg(g.price) * 1.2 from pg.public.facts g where g.id = f.id)",
        # round() to a constant scale gives the column that scale
        "select round(f.price / d.weight, 2) r from pg.public.facts f join lake.main.dims d on d.id = f.id",
        # a column of the result: written as its text, each value with its own scale
        "select f.price / d.weight r from pg.public.facts f join lake.main.dims d on d.id = f.id",
    ],
)
def test_a_quotient_of_fixed_scales_that_is_only_read_for_its_value_goes_to_the_engine(
    sql: str,
) -> None:
    result = plan(sql)
    assert result.engine_refusal is None
    assert result.exact_numerics
    assert not result.per_value_scales


@pytest.mark.parametrize(
    "sql",
    [
        # TPC-DS q04's shape: sums of quotients in a UNION ALL CTE, their ratios compared
        f"with t as ({SUMMED} union all select id, sum(weight / 4) from lake.main.dims group by id) "
        "select a.id from t a join t b on a.id = b.id "
        "where case when a.total > 0 then b.total / a.total end > a.total / 7",
        # the branches of a UNION ALL of two fixed scales, each value with its branch's
        "with u as (select price v from pg.public.facts union all select weight from lake.main.dims) "
        "select 1 from u where u.v / 3 > 1",
        # a quotient of a quotient, and arithmetic over a carried scale in a derived table
        f"select 1 from ({SUMMED}) t join lake.main.dims d on d.id = t.id "
        "where (t.total * 2) / (t.total + d.weight / 3) > 1",
    ],
)
def test_a_quotient_of_scales_computed_per_value_goes_to_the_engine(sql: str) -> None:
    result = plan(sql)
    assert result.engine_refusal is None
    assert result.exact_numerics and "DVT_PG_NUMERIC_DIV_CARRIED" in result.engine_sql


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        (
            "select f.price / d.weight + 1 from pg.public.facts f "
            "join lake.main.dims d on d.id = f.id",
            "as a column",
        ),
        (  # UNION drops duplicates: a hidden scale column would keep 1.5 and 1.50 apart
            "with u as (select price v from pg.public.facts union select weight from lake.main.dims) "
            "select 1 from u where u.v / 3 > 1",
            "differs from row to row",
        ),
        (
            "select sum(f.price / d.weight) from pg.public.facts f join lake.main.dims d on d.id = f.id",
            "as a column",
        ),
        (  # the hidden scale would be neither grouped nor aggregated
            f"with t as ({SUMMED}) select t.id, t.total / 3 > 1 from t "
            "join lake.main.dims d on d.id = t.id group by t.id, t.total",
            "grouped value",
        ),
        (
            "select 1 from pg.public.facts f join lake.main.dims d on d.id = f.id "
            "where f.price / d.weight > f.rate::float8",
            "not an exact number",
        ),
    ],
)
def test_a_quotient_whose_scale_could_show_stays_on_the_target(sql: str, reason: str) -> None:
    refusal = plan(sql).engine_refusal
    assert refusal is not None and reason in refusal


def test_a_result_column_of_two_scales_is_seen() -> None:
    """A CASE of numerics of two scales keeps each value's own in PostgreSQL: the engine's
    one-scale column cannot be written for it without the target's probe."""
    two = plan(
        "select case when f.id > 0 then f.price else d.weight end "
        "from pg.public.facts f join lake.main.dims d on d.id = f.id"
    )
    one = plan(
        "select case when f.id > 0 then f.price else f.price * 2 end, d.label "
        "from pg.public.facts f join lake.main.dims d on d.id = f.id"
    )
    assert two.per_value_scales and not one.per_value_scales


def test_only_a_constant_with_a_terminating_reciprocal_skips_the_macro() -> None:
    """x / 2 is x * 0.5 where PostgreSQL's scale holds it; x / 3 always needs the macro."""
    on = "from pg.public.facts f join lake.main.dims d on d.id = f.id"
    halved = plan(f"select 1 {on} where f.price / 2 > d.weight").engine_sql
    thirds = plan(f"select 1 {on} where f.price / 3 > d.weight").engine_sql
    assert "THEN CAST(f.price * CAST(0.5 AS DECIMAL(2, 1)) AS DECIMAL(38, 20))" in halved
    assert "THEN CAST(f.price *" not in thirds and "DVT_PG_NUMERIC_DIV_2_0(f.price, 3)" in thirds
