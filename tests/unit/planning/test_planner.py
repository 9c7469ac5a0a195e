"""The planner's rules, as SQL in and SQL out (no database): projection and predicate pushdown,
outer-join safety, scalar subqueries, and DVT104 for what cannot be federated."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlglot.expressions as exp

from dvt.exceptions import UnsupportedFederationError
from dvt.planning.models import PlanInput, RelationKey
from dvt.planning.planner import plan_federation

ORDERS = PlanInput(RelationKey("pg", "public", "orders"), "pg", "source.p.app.orders")
USERS = PlanInput(RelationKey("lake", "main", "users"), "duck", "model.p.users")
THIS = PlanInput(RelationKey("pg", "analytics", "facts"), "pg", "model.p.facts")
SCHEMAS = {
    ORDERS.key: [
        ("id", "int"),
        ("user_id", "int"),
        ("amount", "numeric"),
        ("ts", "timestamp"),
        ("note", "text"),
    ],
    USERS.key: [("id", "int"), ("name", "text"), ("email", "text")],
    THIS.key: [("id", "int"), ("ts", "timestamp")],
}


def plan(sql: str, dialect: str = "postgres", **kwargs: object):  # type: ignore[no-untyped-def]
    return plan_federation(
        sql, dialect, [ORDERS, USERS, THIS], SCHEMAS, model="model.p.m", **kwargs
    )  # type: ignore[arg-type]


def reads(result) -> dict[str, tuple[tuple[str, ...], list[str]]]:  # type: ignore[no-untyped-def]
    return {
        e.input.unique_id: (e.columns, [p.sql("postgres") for p in e.predicates])
        for e in result.extractions
    }


def test_projection_and_single_input_predicates_are_pushed() -> None:
    result = plan(
        'select o.id, u.name from "pg"."public"."orders" o join "lake"."main"."users" u '
        "on u.id = o.user_id where o.amount > 10 and u.name like 'A%' and o.id + u.id > 3"
    )
    assert reads(result) == {
        "source.p.app.orders": (("id", "user_id", "amount"), ["amount > 10"]),
        "model.p.users": (("name", "id"), ["name LIKE 'A%'"]),
    }
    assert "dvt_in_0 AS o JOIN dvt_in_1 AS u" in result.engine_sql
    assert "o.id + u.id > 3" in result.engine_sql  # the cross-input conjunct stays in the engine


def test_star_reads_every_column() -> None:
    result = plan('select * from "lake"."main"."users"')
    assert reads(result)["model.p.users"][0] == ("id", "name", "email")


def test_exists_of_a_star_reads_only_the_columns_it_compares() -> None:
    result = plan(
        'select o.id from "pg"."public"."orders" o where exists (select * from '
        '"lake"."main"."users" u where u.id = o.user_id and u.name = \'A\')'
    )
    assert reads(result)["model.p.users"] == (("id", "name"), ["name = 'A'"])
    counted = plan(
        'select o.id from "pg"."public"."orders" o where exists (select count(*) from '
        '"lake"."main"."users" u where u.id = o.user_id)'
    )  # an aggregate always returns a row: the query is kept as written
    assert "EXISTS(SELECT COUNT(*)" in counted.engine_sql


@pytest.mark.parametrize(
    ("where", "pushed"),
    [
        ("u.id between 1200 and 1200 + 11", ["id BETWEEN 1200 AND 1211"]),
        ("u.id = 3 * 4", ["id = 12"]),
        ("u.id = 2147483647 + 1", []),  # int4 overflow: an error on PostgreSQL, kept as written
    ],
)
def test_integer_constants_are_folded_so_their_filter_is_pushed(
    where: str, pushed: list[str]
) -> None:
    result = plan(f'select u.name from "lake"."main"."users" u where {where}')
    assert reads(result)["model.p.users"][1] == pushed


@pytest.mark.parametrize(
    ("join", "pushed_to_users"),
    [("left join", []), ("join", ["name IS NULL"])],
)
def test_null_supplying_side_keeps_its_filter_in_the_engine(
    join: str, pushed_to_users: list[str]
) -> None:
    result = plan(
        f'select o.id from "pg"."public"."orders" o {join} "lake"."main"."users" u on u.id = o.user_id '
        "where u.name is null"
    )
    assert reads(result)["model.p.users"][1] == pushed_to_users
    assert "u.name IS NULL" in result.engine_sql


def test_right_join_protects_the_preserved_sides_partner() -> None:
    result = plan(
        'select o.id from "pg"."public"."orders" o right join "lake"."main"."users" u '
        "on u.id = o.user_id where o.amount > 1 and u.name = 'x'"
    )
    assert reads(result) == {
        "source.p.app.orders": (("id", "user_id", "amount"), []),
        "model.p.users": (("id", "name"), ["name = 'x'"]),
    }


def test_parenthesised_outer_join_keeps_filters_in_the_engine() -> None:
    result = plan(
        'select o.id from "pg"."public"."orders" o join ("lake"."main"."users" u left join '
        '"pg"."analytics"."facts" f on f.id = u.id) on u.id = o.user_id where f.ts is null'
    )
    assert all(not predicates for _, predicates in reads(result).values())
    assert "f.ts IS NULL" in result.engine_sql
    first = plan(  # the same join, first in FROM
        'select o.id from ("lake"."main"."users" u left join "pg"."analytics"."facts" f '
        'on f.id = u.id) join "pg"."public"."orders" o on u.id = o.user_id where f.ts is null'
    )
    assert all(not predicates for _, predicates in reads(first).values())
    assert "f.ts IS NULL" in first.engine_sql


def test_an_outer_join_inside_a_derived_table_keeps_no_filter_of_the_outer_query() -> None:
    # TPC-DS q05's shape: the derived table's LEFT JOIN is a scope of its own; the outer
    # query's inner join with users NULL-extends nothing, so its filter on users is pushed.
    result = plan(
        'select r.id from (select o.id, o.user_id from "pg"."public"."orders" o left join '
        '"pg"."analytics"."facts" f on f.id = o.id) r, "lake"."main"."users" u '
        "where r.user_id = u.id and u.name = 'x'"
    )
    assert reads(result)["model.p.users"] == (("id", "name"), ["name = 'x'"])
    assert result.not_pushed == ()


def test_a_parenthesised_group_on_the_null_side_keeps_the_filters_of_each_of_its_tables() -> None:
    # `(o join f)` is NULL-extended as a whole: `o.note is null` holds for a user without
    # orders, so pushed into the read of orders it would keep rows the target drops.
    result = plan(
        'select u.id from "lake"."main"."users" u left join ("pg"."public"."orders" o join '
        '"pg"."analytics"."facts" f on f.id = o.id) on o.user_id = u.id where o.note is null'
    )
    assert reads(result)["source.p.app.orders"][1] == []
    assert "o.note IS NULL" in result.engine_sql
    preserved = plan(  # the group is the preserved side of a RIGHT JOIN: its filter is pushed
        'select u.id from "lake"."main"."users" u right join ("pg"."public"."orders" o join '
        '"pg"."analytics"."facts" f on f.id = o.id) on o.user_id = u.id where o.note = \'x\''
    )
    assert reads(preserved)["source.p.app.orders"][1] == ["note = 'x'"]


@pytest.mark.parametrize(
    ("condition", "pushed"),
    [
        ("o.amount = -5", ["amount = -5"]),
        ("-o.amount = 5", []),
        ("o.amount > -1.5", ["amount > -1.5"]),
    ],
)
def test_a_negative_number_is_a_constant_a_negated_column_is_not(
    condition: str, pushed: list[str]
) -> None:
    result = plan(f'select o.id from "pg"."public"."orders" o where {condition}')
    assert reads(result)["source.p.app.orders"][1] == pushed


def test_uncorrelated_scalar_subquery_is_evaluated_and_pushed() -> None:
    asked: list[str] = []

    def evaluate(plan_input: PlanInput, select: exp.Select) -> tuple[bool, object]:
        asked.append(plan_input.unique_id)
        return True, dt.datetime(2024, 5, 1, 12, 0)

    result = plan(
        'select id, ts from "pg"."public"."orders" where ts > (select max(ts) from "pg"."analytics"."facts")',
        evaluate_scalar=evaluate,
    )
    assert asked == ["model.p.facts"]
    assert reads(result) == {
        "source.p.app.orders": (("id", "ts"), ["ts > CAST('2024-05-01 12:00:00' AS TIMESTAMP)"])
    }


def test_ctes_are_planned_through() -> None:
    result = plan(
        'with big as (select user_id, amount from "pg"."public"."orders" where amount > 100) '
        'select u.name, sum(b.amount) from big b join "lake"."main"."users" u on u.id = b.user_id group by 1'
    )
    assert reads(result)["source.p.app.orders"] == (("user_id", "amount"), ["amount > 100"])
    assert result.engine_sql.startswith("WITH big AS")


def test_engine_sql_is_duckdb_dialect() -> None:
    result = plan(
        'select o.id, o.ts::date as day from "pg"."public"."orders" o join "lake"."main"."users" u on u.id = o.user_id'
    )
    assert "CAST(o.ts AS DATE)" in result.engine_sql


@pytest.mark.parametrize(
    ("sql", "fragment"),
    [
        ('select * from "pg"."public"."unknown_table"', "neither a ref() nor a source()"),
        ("select * from generate_series(1, 3)", "cannot be federated"),
        ("select from where", "cannot parse"),
    ],
)
def test_what_cannot_be_federated_is_dvt104(sql: str, fragment: str) -> None:
    with pytest.raises(UnsupportedFederationError) as raised:
        plan(sql)
    assert "DVT104" in str(raised.value) and "model.p.m" in str(raised.value)
    assert fragment in str(raised.value)


@pytest.mark.parametrize(
    ("sql", "limit"),
    [
        ('select id, note from "pg"."public"."orders" where amount > 5 limit 10', 10),
        ('select id from "pg"."public"."orders" order by id limit 10', None),
        ('select distinct note from "pg"."public"."orders" limit 10', None),
        ('select count(*) from "pg"."public"."orders" limit 10', None),
        (
            'select o.id from "pg"."public"."orders" o join "lake"."main"."users" u on u.id = o.user_id limit 3',
            None,
        ),
        ('select * from (select id from "pg"."public"."orders" limit 4) q where id > 1', 4),
        ('select id from "pg"."public"."orders" limit 5 offset 2', None),
    ],
)
def test_limit_is_pushed_only_where_nothing_changes_rows(sql: str, limit: int | None) -> None:
    (extraction, *_) = plan(sql).extractions
    assert extraction.limit == limit


def test_a_folded_subquery_still_tells_what_the_target_reads() -> None:
    """Evaluated first, the subquery leaves the engine SQL; the model's own SQL, which the
    target placement runs, still reads its columns, so its input's import must hold them."""
    result = plan(
        'select id from "pg"."public"."orders" where user_id = '
        '(select max(u.id) from "lake"."main"."users" u where u.email = \'x\')',
        evaluate_scalar=lambda plan_input, select: (True, 7),
    )
    assert [e.input.unique_id for e in result.extractions] == ["source.p.app.orders"]
    (folded,) = result.folded
    assert folded.input.unique_id == "model.p.users" and set(folded.columns) == {"id", "email"}
    assert [e.input.unique_id for e in result.remote("pg")] == ["model.p.users"]


@pytest.mark.parametrize(
    "sql",
    [
        'select id from "pg"."public"."orders" where user_id in (select id from "lake"."main"."users")',
        'select id from "pg"."public"."orders" where user_id = any (select id from "lake"."main"."users")',
        'select id from "pg"."public"."orders" o where exists (select 1 from "lake"."main"."users" u where u.id = 1)',
    ],
)
def test_sets_are_never_folded_into_one_value(sql: str) -> None:
    asked: list[str] = []
    result = plan(sql, evaluate_scalar=lambda plan_input, select: (asked.append("x"), (True, 1))[1])
    assert asked == [] and not result.folded
    assert "SELECT" in result.engine_sql.split("WHERE", 1)[1]


def test_a_limit_never_enters_a_correlated_subquery() -> None:
    result = plan(
        'select o.id, (select u.name from "lake"."main"."users" u where u.id = o.user_id '
        'order by u.name limit 1) from "pg"."public"."orders" o'
    )
    users = [e for e in result.extractions if e.input.unique_id == "model.p.users"]
    assert users and all(e.limit is None for e in users)
    result = plan(
        'select o.id, (select u.name from "lake"."main"."users" u where u.id = o.user_id limit 1) '
        'from "pg"."public"."orders" o'
    )
    assert all(e.limit is None for e in result.extractions)


MICROBATCH_WINDOW = (
    'select id, ts from (select * from "pg"."public"."orders" where ts >= '
    "'2024-01-02 00:00:00+00:00' and ts < '2024-01-03 00:00:00+00:00') _dbt_et_filter_subq_orders"
)


def test_a_microbatch_window_is_pushed_where_the_source_reads_instants() -> None:
    """dbt writes a batch's window with its UTC offset; a source that reads such a literal as
    the target does gets it in its read, any other keeps it on the target (DVT005)."""
    from dvt.planning.semantics import Reading

    pushed = plan(MICROBATCH_WINDOW, readings={"pg": Reading(reads_instants=True)})
    window = ["ts >= '2024-01-02 00:00:00+00:00'", "ts < '2024-01-03 00:00:00+00:00'"]
    used = ("id", "ts")  # dbt's `select *` stands for every column; the batch uses two
    assert reads(pushed)["source.p.app.orders"] == (used, window)
    assert not pushed.not_pushed
    kept = plan(MICROBATCH_WINDOW)  # an input of no known reading: MySQL's, say
    assert reads(kept)["source.p.app.orders"] == (used, [])
    assert len(kept.not_pushed) == 2


EVERY_ORDER_COLUMN = ("id", "user_id", "amount", "ts", "note")


@pytest.mark.parametrize(
    ("sql", "orders_columns"),
    [
        # dbt's import CTEs: each input read with what the model uses of it.
        (
            "with o as (select * from pg.public.orders), u as (select * from lake.main.users) "
            "select o.id, u.name from o join u on u.id = o.user_id",
            ("id", "user_id"),
        ),
        (
            "select s.id from (select * from pg.public.orders where ts > '2024-01-01') s",
            ("id", "ts"),
        ),
        # A column the model writes is read even where unused: its target runs the SQL as
        # written, and must find the column in the import.
        ("with o as (select id, note from pg.public.orders) select o.id from o", ("id", "note")),
        (
            "with o as (select *, amount * 2 as a2 from pg.public.orders) select o.id from o",
            ("id", "amount"),
        ),
        # What the rows depend on keeps every column.
        ("select count(*) from (select distinct * from pg.public.orders) s", EVERY_ORDER_COLUMN),
        (
            "select x.id from (select * from pg.public.orders union all "
            "select * from pg.public.orders) x",
            EVERY_ORDER_COLUMN,
        ),
        ("with o as (select * from pg.public.orders) select * from o", EVERY_ORDER_COLUMN),
        (
            "select s.id from (select * from pg.public.orders order by 2 limit 3) s",
            EVERY_ORDER_COLUMN,
        ),
    ],
)
def test_a_star_of_a_cte_or_derived_table_reads_only_the_columns_used_above_it(
    sql: str, orders_columns: tuple[str, ...]
) -> None:
    result = plan(sql)
    reads_of_orders = [e.columns for e in result.extractions if e.input == ORDERS]
    assert reads_of_orders and all(columns == orders_columns for columns in reads_of_orders)
    assert "dvt_in_" in result.engine_sql
