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
    ("sql", "reason"),
    [
        (
            "select f.price / d.weight + 1 from pg.public.facts f "
            "join lake.main.dims d on d.id = f.id",
            "as a column",
        ),
        (
            "with u as (select price v from pg.public.facts union all select weight from lake.main.dims) "
            "select 1 from u where u.v / 3 > 1",
            "differs from row to row",
        ),
        (
            "select sum(f.price / d.weight) from pg.public.facts f join lake.main.dims d on d.id = f.id",
            "as sum",
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
