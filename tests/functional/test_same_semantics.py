"""The same-semantics list, entry by entry, against PostgreSQL itself: each construct the list
proves the same in DuckDB has a query here that PostgreSQL answers natively and the embedded
DuckDB answers from the planner's engine SQL over the same rows; the answers must be equal. A
construct added to the list without a query here fails `test_every_entry_has_a_query`."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import Counter
from decimal import Decimal
from typing import Any

import duckdb
import pytest
import sqlglot
import sqlglot.expressions as exp

from dvt.planning.models import PlanInput, RelationKey
from dvt.planning.numeric import INEXACT
from dvt.planning.planner import plan_federation
from dvt.planning.semantics import SAME_SEMANTICS, Reading
from tests.servers.postgres import PostgresServer

pytestmark = [pytest.mark.postgres, pytest.mark.duckdb]

T = PlanInput(RelationKey("", "s", "t"), "pg", "source.p.s.t")
U = PlanInput(RelationKey("", "s", "u"), "duck", "source.p.s.u")
T_COLUMNS = [
    ("i", "integer", "INTEGER"),
    ("b", "bigint", "BIGINT"),
    ("n", "numeric(12,2)", "DECIMAL(12,2)"),
    ("f", "double precision", "DOUBLE"),
    ("s", "text", "VARCHAR"),
    ("d", "date", "DATE"),
    ("ts", "timestamp", "TIMESTAMP"),
    ("flag", "boolean", "BOOLEAN"),
]
T_ROWS = [
    (
        1,
        10,
        Decimal("1.25"),
        0.5,
        "apple",
        dt.date(2024, 1, 31),
        dt.datetime(2024, 1, 31, 23, 30),
        True,
    ),
    (
        2,
        -20,
        Decimal("-2.50"),
        -1.5,
        "Apple",
        dt.date(2024, 2, 29),
        dt.datetime(2024, 3, 1, 0, 15),
        False,
    ),
    (
        3,
        9007199254740993,
        Decimal("3.00"),
        2.25,
        "banana",
        dt.date(2023, 12, 31),
        dt.datetime(2023, 12, 31, 12, 0),
        None,
    ),
    (4, None, None, None, None, None, None, True),
    (
        5,
        7,
        Decimal("0.01"),
        1e10,
        "a_b%",
        dt.date(2024, 7, 4),
        dt.datetime(2024, 7, 4, 6, 45, 30),
        False,
    ),
    (
        -6,
        7,
        Decimal("99.99"),
        -0.0,
        "apple",
        dt.date(2024, 1, 1),
        dt.datetime(2024, 1, 1, 0, 0),
        True,
    ),
]
U_COLUMNS = [("i", "integer", "INTEGER"), ("s", "text", "VARCHAR")]
V = PlanInput(RelationKey("", "s", "v"), "pg", "source.p.s.v")
V_COLUMNS = [
    ("id", "integer", "INTEGER"),
    ("x", "double precision", "DOUBLE"),
    ("y", "double precision", "DOUBLE"),
    ("m", "numeric(30,3)", "DECIMAL(30,3)"),
    ("k", "numeric(5,0)", "DECIMAL(5,0)"),
]
#: float8 divisions at the edges, one per row: by zero (but NaN by zero), overflow to
#: infinity, underflow to zero, infinities, and numerics whose nearest double DuckDB's own cast
#: would miss (it divides the unscaled integer by a power of ten).
_INF = float("inf")
V_ROWS = [
    (0, 1.0, 0.0, Decimal("1.000"), Decimal("0")),
    (1, 1.0, -0.0, Decimal("0.000"), Decimal("3")),
    (2, float("nan"), 0.0, Decimal("1.000"), Decimal("7")),
    (3, 1e300, 1e-300, Decimal("2.000"), Decimal("3")),
    (4, 1e-300, 1e300, Decimal("2.000"), Decimal("3")),
    (5, _INF, 2.0, Decimal("2.000"), Decimal("3")),
    (6, 1.0, -_INF, Decimal("2.000"), Decimal("3")),
    (7, 0.0, _INF, Decimal("2.000"), Decimal("3")),
    (8, 1.0, 1.0, Decimal("12345678901234567.891"), Decimal("99999")),
    (9, 3.0, 7.0, Decimal("9007199254740993.123"), Decimal("-3")),
    (10, None, 0.0, None, Decimal("1")),
]
U_ROWS = [(1, "one"), (3, "three"), (3, "drei"), (7, "seven"), (None, "nothing")]
W = PlanInput(RelationKey("", "s", "w"), "pg", "source.p.s.w")
W_COLUMNS = [
    ("id", "integer", "INTEGER"),
    ("a", "numeric(24,4)", "DECIMAL(24,4)"),
    ("b", "numeric(20,2)", "DECIMAL(20,2)"),
]
#: Numeric divisions at the edges of PostgreSQL's `select_div_scale`: each dividend by each
#: divisor, whose first base-10000 digits are equal, greater or smaller, of weights -1 to 3,
#: zero, negative, with digits below the point or none.
_DIVIDENDS = ["0", "1", "-1", "0.0001", "2.5", "9999", "10000", "10001", "12345.6789"]
_DIVIDENDS += ["-99999999.9999", "0.5", "1234", "1235", "3", "98765432109876.5432"]
_DIVISORS = ["1", "-1", "3", "7", "0.01", "1234", "1235", "9999.99", "10000", "123456.78"]
_DIVISORS += ["0.07", "2.5", "-0.03"]
W_ROWS = [
    (index, Decimal(a), Decimal(b))
    for index, (a, b) in enumerate((a, b) for a in _DIVIDENDS for b in _DIVISORS)
]

TABLES = (
    ("t", T_COLUMNS, T_ROWS),
    ("u", U_COLUMNS, U_ROWS),
    ("v", V_COLUMNS, V_ROWS),
    ("w", W_COLUMNS, W_ROWS),
)

#: One query per construct of the PostgreSQL-on-DuckDB list (several constructs per query).
QUERIES: dict[type[exp.Expr], str] = {
    exp.Select: "select i, s from s.t",
    exp.From: "select i from s.t",
    exp.Join: "select t.i, u.s from s.t t left join s.u u on u.i = t.i",
    exp.Where: "select i from s.t where b > 0 and flag",
    exp.Group: "select flag, count(*) from s.t group by flag",
    exp.Having: "select flag, count(*) from s.t group by flag having count(*) > 1",
    exp.Order: "select i from s.t order by b desc, i limit 4",
    exp.Ordered: "select i, row_number() over (order by b nulls first, i) from s.t",
    exp.Limit: "select i from s.t order by i limit 2",
    exp.Offset: "select i from s.t order by i limit 2 offset 3",
    exp.Distinct: "select distinct s from s.t",
    exp.Subquery: "select x.i from (select i from s.t where i > 1) x",
    exp.With: "with x as (select i from s.t) select i from x where i < 4",
    exp.CTE: "with x as (select i, s from s.t), y as (select i from s.u) select x.i from x join y on y.i = x.i",
    exp.Union: "select i from s.t union select i from s.u",
    exp.Intersect: "select i from s.t intersect select i from s.u",
    exp.Except: "select i from s.t except select i from s.u",
    exp.Table: "select * from s.u",
    exp.TableAlias: "select a.i from s.t as a",
    exp.Alias: "select i as k from s.t",
    exp.Identifier: 'select "i" from s.t',
    exp.Star: "select * from s.t",
    exp.Paren: "select (i + 1) * 2 from s.t",
    exp.Var: "select extract(year from d) from s.t",
    exp.Window: "select i, sum(b) over (partition by flag order by i) from s.t",
    exp.Column: "select n, f, d, ts from s.t",
    exp.Literal: "select i, 1, 'x', 2.5 from s.t where d >= '2024-01-31'",
    exp.Null: "select i from s.t where b is null",
    exp.Boolean: "select i from s.t where flag = true",
    exp.DataType: "select cast(i as bigint) from s.t",
    exp.DataTypeParam: "select cast(n as numeric(14, 3)) from s.t",
    exp.Cast: "select i::bigint, ts::date, i::text, s::varchar, n::numeric(14,3), n::float8, "
    "b::float8, sum(n) over ()::float8 from s.t",
    exp.And: "select i from s.t where i > 1 and b < 10",
    exp.Or: "select i from s.t where i > 4 or b < 0",
    exp.Not: "select i from s.t where not flag",
    exp.Is: "select i from s.t where flag is not null",
    exp.In: "select i from s.t where i in (select i from s.u)",
    exp.Exists: "select i from s.t t where exists (select 1 from s.u u where u.i = t.i)",
    exp.Any: "select i from s.t where i = any (select i from s.u)",
    exp.EQ: "select i from s.t where s = 'apple'",
    exp.NEQ: "select i from s.t where s <> 'apple'",
    exp.GT: "select i from s.t where n > 1.5",
    exp.GTE: "select i from s.t where d >= '2024-02-29'",
    exp.LT: "select i from s.t where f < 1",
    exp.LTE: "select i from s.t where ts <= '2024-01-31 23:30:00'",
    exp.Between: "select i from s.t where b between -20 and 10",
    exp.Like: "select i from s.t where s like 'a%'",
    exp.Case: "select case when b > 0 then 'pos' when b < 0 then 'neg' else 'none' end from s.t",
    exp.If: "select case when flag then i end from s.t",
    exp.Coalesce: "select coalesce(b, i, 0) from s.t",
    exp.Add: "select i + b, d + 1 from s.t",
    exp.Sub: "select i - b, d - 1, d - date '2024-01-01' from s.t",
    exp.Mul: "select i * 3, n * 2 from s.t",
    exp.Neg: "select -i from s.t",
    exp.Div: "select i / 2, b / 3, -7 / 2, n / f, f / i, b::float8 / n, i / 3.0::float8 "
    "from s.t where f <> 0 and n <> 0 and n / i > -0.5 and (n * 1.0000) / i <= 1.25 "
    "and case when b > 0 then n / i else 0.0 end >= 0 order by b / 3.0",
    exp.IntDiv: "select b / 2 from s.t",
    exp.Abs: "select abs(b), abs(n) from s.t",
    exp.DPipe: "select s || '-' || i from s.t",
    exp.Length: "select length(s) from s.t",
    exp.Count: "select count(*), count(b), count(distinct s) from s.t",
    exp.Sum: "select sum(i), sum(b), sum(n) from s.t",
    exp.Avg: "select flag from s.t t group by flag having avg(n) > 0.3 "
    "and avg(i) < (select avg(b) * 1.2 from s.t u where u.flag = t.flag)",
    exp.Round: "select round(n, 1), round(n), round(n, 4), round(n / 7, 3), round(avg(i), 2) "
    "from s.t group by n",
    exp.Min: "select min(b), min(d), max(n), max(ts) from s.t",
    exp.Max: "select max(i) from s.t",
    exp.RowNumber: "select i, row_number() over (partition by flag order by i) from s.t",
    exp.Rank: "select i, rank() over (order by flag, i) from s.t",
    exp.DenseRank: "select i, dense_rank() over (order by b) from s.t",
    exp.Extract: "select extract(month from d), extract(hour from ts), extract(dow from d) from s.t",
    exp.TimestampTrunc: "select date_trunc('day', ts), date_trunc('week', ts) from s.t",
}

#: Queries the list must refuse: each differs, or may differ, in DuckDB.
REFUSED = {
    "text ordering": "select i from s.t order by s",
    "text comparison": "select i from s.t where s > 'b'",
    "avg of a column": "select avg(i) + 1 from s.t",
    "avg of a double": "select i from s.t where f > (select avg(f) from s.t)",
    "avg as a window function": "select i from s.t order by avg(n) over (partition by flag)",
    "a quotient summed": "select sum(n / 3) from s.t",
    "a quotient of values of two scales": "select i from s.t where (case when flag then n "
    "else 1 end) / 3 > 1",
    "a quotient compared with a double": "select i from s.t where n / 3 > f",
    "a quotient grouped by": "select n / 3 > 1 from s.t group by n / 3",
    "round to a computed scale": "select round(n, i) from s.t",
    "round of an integer": "select round(i / 2) from s.t",
    "float sum": "select sum(f) from s.t",
    "numeric division": "select n / 3 * 2 from s.t",
    "a quotient column of a DISTINCT result": "select distinct n / 3 from s.t",
    "a quotient column ordered by": "select n / 3 as r from s.t order by r",
    "exponent notation": "select n * 1e6 from s.t",
    "division by a column": "select i / b from s.t",
    "numeric by a double cast to numeric": "select n / f::numeric from s.t",
    "real division": "select f::real / 2 from s.t",
    "date_trunc of a date": "select date_trunc('month', d) from s.t",
    "round": "select round(f) from s.t",
    "LIKE escape": "select i from s.t where s like 'a\\_%'",
    "lower": "select lower(s) from s.t",
    "to_char": "select to_char(d, 'YYYY') from s.t",
    "text min": "select min(s) from s.t",
    "non-ISO date literal": "select i from s.t where d > '01/02/2024'",
    "a set of timestamp and date": "select ts from s.t union select d from s.t",
    "timestamp against timestamptz": "select i from s.t where ts < timestamptz '2024-01-01 00:00:00+00'",
}


#: Text ordered and compared by order: the same in the engine only where the target orders
#: text by its bytes (a PostgreSQL database of collation C, as the test cluster's).
BYTEWISE = {
    exp.Ordered: "select s, i from s.t order by s nulls first, i",
    exp.GT: "select i from s.t where s > 'a_b%'",
    exp.GTE: "select i from s.t where s >= 'apple'",
    exp.LT: "select i from s.t where s < 'apple'",
    exp.LTE: "select i from s.t where s <= 'Apple'",
    exp.Between: "select i from s.t where s between 'Apple' and 'apple'",
    exp.Min: "select min(s), max(s) from s.t",
    exp.Max: "select i, max(s) over (order by s desc nulls last, i) from s.t",
}


def _plan(sql: str) -> Any:
    schemas = {
        T.key: [(name, pg_type) for name, pg_type, _ in T_COLUMNS],
        U.key: [(name, pg_type) for name, pg_type, _ in U_COLUMNS],
        V.key: [(name, pg_type) for name, pg_type, _ in V_COLUMNS],
        W.key: [(name, pg_type) for name, pg_type, _ in W_COLUMNS],
    }
    return plan_federation(sql, "postgres", [T, U, V, W], schemas, model="model.p.m")


def test_every_entry_has_a_query() -> None:
    listed = SAME_SEMANTICS[("postgres", "duckdb")]
    assert listed is not None
    missing = [kind.__name__ for kind in listed if kind not in QUERIES]
    assert not missing, f"same-semantics entries without a differential query: {missing}"


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_the_list_refuses_what_differs(name: str) -> None:
    assert _plan(REFUSED[name]).engine_refusal, REFUSED[name]


@pytest.fixture(scope="module")
def databases(postgres: PostgresServer) -> Any:
    import psycopg2

    postgres.create_database("semantics")
    with psycopg2.connect(postgres.dsn_for("semantics")) as conn, conn.cursor() as cur:
        cur.execute("create schema s")
        for table, columns, rows in TABLES:
            cur.execute(f"create table s.{table} ({', '.join(f'{n} {t}' for n, t, _ in columns)})")
            marks = ", ".join(["%s"] * len(columns))
            cur.executemany(f"insert into s.{table} values ({marks})", rows)
    engine = duckdb.connect()
    for name, columns, rows in TABLES:
        engine.execute(f"create table {name} ({', '.join(f'{n} {t}' for n, _, t in columns)})")
        engine.executemany(f"insert into {name} values ({', '.join('?' * len(columns))})", rows)
    return postgres, engine


def _normalised(rows: list[tuple[Any, ...]]) -> Counter[tuple[Any, ...]]:
    def value(v: Any) -> Any:
        if isinstance(v, float):
            return Decimal(repr(v)).normalize() if v == v else "nan"
        if isinstance(v, Decimal):
            return v.normalize()
        return v

    return Counter(tuple(value(v) for v in row) for row in rows)


def _in_engine(engine: Any, plan: Any) -> list[tuple[Any, ...]]:
    """The plan's engine SQL run in DuckDB over the same rows (each read a view of its table)."""
    cursor = engine.cursor()
    for macro in plan.engine_macros:
        cursor.execute(macro)
    for extraction in plan.extractions:
        source = extraction.input.key.name
        cursor.execute(
            f"create or replace temp view {extraction.engine_name} as select * from {source}"
        )
    return list(cursor.execute(plan.engine_sql).fetchall())


@pytest.mark.parametrize(
    "construct", sorted(QUERIES, key=lambda k: k.__name__), ids=lambda k: k.__name__
)
def test_postgres_and_the_engine_agree(databases: Any, construct: type[exp.Expr]) -> None:
    import psycopg2

    postgres, engine = databases
    sql = QUERIES[construct]
    if construct is exp.IntDiv:  # the planner writes PostgreSQL's integer `/` so
        assert "//" in _plan(sql).engine_sql
    else:
        assert sqlglot.parse_one(sql, read="postgres").find(construct), "the query lacks it"
    plan = _plan(sql)
    assert plan.engine_refusal is None, f"{sql}: {plan.engine_refusal}"
    in_engine = _in_engine(engine, plan)
    with psycopg2.connect(postgres.dsn_for("semantics")) as conn, conn.cursor() as cur:
        cur.execute(sql)
        native = cur.fetchall()
    assert _normalised(in_engine) == _normalised(native), f"{sql}\nengine SQL: {plan.engine_sql}"


@pytest.mark.parametrize("row", range(len(V_ROWS)))
def test_a_float_division_fails_or_answers_as_postgres(databases: Any, row: int) -> None:
    """The planner's float8 division, run by DuckDB, raises where PostgreSQL raises and gives
    PostgreSQL's double (bit for bit) where it answers (`V_ROWS`)."""
    import psycopg2

    postgres, engine = databases
    sql = f"select x / y, m / y, x / k, x / m::float8 from s.v where id = {row}"
    plan = _plan(sql)
    assert plan.engine_refusal is None, plan.engine_refusal
    with psycopg2.connect(postgres.dsn_for("semantics")) as conn, conn.cursor() as cur:
        try:
            cur.execute(sql)
            native: Any = [tuple(repr(v) for v in r) for r in cur.fetchall()]
        except psycopg2.DataError as exc:
            native = str(exc).splitlines()[0]
    try:
        in_engine: Any = [tuple(repr(v) for v in r) for r in _in_engine(engine, plan)]
    except duckdb.InvalidInputException as exc:
        in_engine = str(exc).removeprefix("Invalid Input Error: ").splitlines()[0]
    assert in_engine == native, f"{V_ROWS[row]}\n{plan.engine_sql}"


def test_a_numeric_quotient_is_postgres_own(databases: Any) -> None:
    """PostgreSQL's numeric division, run by DuckDB as the planner writes it, gives PostgreSQL's
    rounded quotient for every pair of `W_ROWS`; where that quotient has digits beyond the
    engine's DECIMAL(38, 20), the engine fails with the mark that sends the node back to its
    target, and only there."""
    import psycopg2

    postgres, engine = databases
    with psycopg2.connect(postgres.dsn_for("semantics")) as conn, conn.cursor() as cur:
        cur.execute("select id, round(a / b, 20), a / b = round(a / b, 20) from s.w order by id")
        native = cur.fetchall()
    inexact = 0
    for row, quotient, fits in native:
        plan = _plan(f"select round(a / b, 20) from s.w where id = {row}")
        assert plan.engine_refusal is None and plan.exact_numerics
        try:
            [(in_engine,)] = _in_engine(engine, plan)
        except duckdb.InvalidInputException as exc:
            assert INEXACT in str(exc) and not fits, W_ROWS[row]
            inexact += 1
            continue
        assert in_engine == quotient, W_ROWS[row]
    assert 0 < inexact < len(native) / 4


@pytest.mark.parametrize(("divisor", "digits"), [(2, 1), (8, 3), (16, 4)])
def test_a_quotient_by_a_constant_is_postgres_own(
    databases: Any, divisor: int, digits: int
) -> None:
    """A division by a constant whose reciprocal terminates (0.5, 0.125, 0.0625) is the
    dividend times that reciprocal where PostgreSQL's scale for the row holds every digit of
    it, and the macro elsewhere (98765432109876.5432 / 2 is rounded to 4 digits)."""
    import psycopg2

    postgres, engine = databases
    sql = f"select id, round(a / {divisor}, 20) from s.w where a >= 0 order by id"
    plan = _plan(sql)
    assert plan.engine_refusal is None
    assert f"DVT_PG_NUMERIC_DIV_4_0(w.a, {divisor}) END" in plan.engine_sql  # the other rows
    with psycopg2.connect(postgres.dsn_for("semantics")) as conn, conn.cursor() as cur:
        cur.execute(sql)
        native = cur.fetchall()
        exact = 4 + digits  # the dividend's scale, and the reciprocal's
        cur.execute(f"select count(*) from s.w where a >= 0 and scale(a / {divisor}) < {exact}")
        [(rounded,)] = cur.fetchall()
    assert rounded > 0 and _in_engine(engine, plan) == native


def test_a_quotient_column_is_postgres_own_text(databases: Any) -> None:
    """A quotient that is a column of the result is written as PostgreSQL writes it, every
    digit of its own scale (the target reads the text back into its numeric)."""
    import psycopg2

    postgres, engine = databases
    sql = "select id, a / b as q from s.w order by id"
    plan = _plan(sql)
    assert plan.engine_refusal is None and not plan.per_value_scales
    with psycopg2.connect(postgres.dsn_for("semantics")) as conn, conn.cursor() as cur:
        cur.execute(sql.replace("a / b", "(a / b)::text"))
        native = cur.fetchall()
    assert _in_engine(engine, plan) == native
    assert len({len(q.partition(".")[2]) for _, q in native}) > 3  # scales of their own


#: Sums of quotients per group, each with the largest scale of its quotients (which depends on
#: the rows), divided by one another in a UNION ALL CTE read three times (TPC-DS q04's shape).
CARRIED = """
with y as (
  select id - 13 * (id / 13) g, sum(a / b) total, 'q' kind from s.w where a >= {low} group by id - 13 * (id / 13)
  union all select id - 13 * (id / 13), sum(b / 2), 'h' from s.w where a >= {low} group by id - 13 * (id / 13)
  union all select id - 13 * (id / 13), sum(a), 's' from s.w where a >= {low} group by id - 13 * (id / 13))
select round(p.total / h.total, 20), round(p.total / s.total, 20), round(s.total / h.total, 20)
from y p join y h on h.g = p.g and h.kind = 'h' join y s on s.g = p.g and s.kind = 's'
where p.kind = 'q' and p.g = {group} and p.total / h.total > s.total / h.total - 1000000
"""


def test_a_sum_of_quotients_carries_its_scale(databases: Any) -> None:
    """A sum of numeric quotients has the largest scale of its values, so a quotient of such
    sums is rounded where PostgreSQL rounds it only if the engine knows that scale per group:
    it computes it, and carries it through the CTE in a hidden column. Every answer the engine
    gives is PostgreSQL's, digit for digit at scale 20; the others fail with the mark that
    sends the node back to its target."""
    import psycopg2

    postgres, engine = databases
    answered, inexact, scales = 0, 0, set()
    with psycopg2.connect(postgres.dsn_for("semantics")) as conn, conn.cursor() as cur:
        for low in ("0", "1", "3", "10000"):
            for group in range(13):
                sql = CARRIED.format(low=low, group=group)
                plan = _plan(sql)
                assert plan.engine_refusal is None and plan.exact_numerics, sql
                assert "__dvt_scale" in plan.engine_sql
                cur.execute(sql)
                native = cur.fetchall()
                cur.execute(
                    CARRIED.format(low=low, group=group).replace(
                        "select round(p.total / h.total, 20), round(p.total / s.total, 20), "
                        "round(s.total / h.total, 20)",
                        "select scale(p.total), scale(h.total)",
                    )
                )
                scales.update(cur.fetchall())
                try:
                    in_engine = _in_engine(engine, plan)
                except (duckdb.InvalidInputException, duckdb.OutOfRangeException) as exc:
                    inexact_mark = isinstance(exc, duckdb.InvalidInputException)
                    assert not inexact_mark or INEXACT in str(exc), sql
                    inexact += 1  # past DECIMAL(38, 20) or HUGEINT: back to the target
                    continue
                assert in_engine == native, sql
                answered += 1
    assert answered > 12 and inexact > 0
    assert len({p for p, _ in scales}) > 2  # the sums' scales differ from group to group


def test_a_set_operation_keeps_every_branch_digits(databases: Any) -> None:
    """DuckDB's common type of DECIMAL(24, 4) and DECIMAL(38, 2) (a sum of numeric(12,2)) is
    DECIMAL(38, 2), which rounds the first branch: the engine casts both to DECIMAL(38, 4),
    and the first keeps its column's name."""
    import psycopg2

    postgres, engine = databases
    sql = (
        "with u as (select a from s.w union all select sum(n) v from s.t) "
        "select count(*) from u where a = 0.0001 or a > 4.5"
    )
    plan = _plan(sql)
    assert plan.engine_refusal is None and plan.exact_numerics
    with psycopg2.connect(postgres.dsn_for("semantics")) as conn, conn.cursor() as cur:
        cur.execute(sql)
        native = cur.fetchall()
    assert native[0][0] > 0 and _in_engine(engine, plan) == native


def test_every_bytewise_entry_has_a_query() -> None:
    from dvt.planning.semantics import BYTEWISE_TEXT

    assert set(BYTEWISE_TEXT) == set(BYTEWISE)


@pytest.mark.parametrize("construct", sorted(BYTEWISE, key=lambda k: k.__name__), ids=str)
def test_text_order_is_the_engines_where_the_target_orders_by_bytes(
    databases: Any, construct: type[exp.Expr]
) -> None:
    """Refused by the list, passed by its bytewise form; the engine's rows, in order, equal
    PostgreSQL's under collation C, and (for most queries) differ from its ICU en-US order."""
    import psycopg2

    postgres, engine = databases
    sql = BYTEWISE[construct]
    assert sqlglot.parse_one(sql, read="postgres").find(construct), "the query lacks it"
    plan = _plan(sql)
    assert plan.engine_refusal and plan.bytewise_refusal is None, plan.bytewise_refusal
    in_engine = _in_engine(engine, plan)
    ordered = construct in (exp.Ordered, exp.Max)
    with psycopg2.connect(postgres.dsn_for("semantics")) as conn, conn.cursor() as cur:
        cur.execute(sql)
        native = cur.fetchall()
        cur.execute(sql.replace("s.t", '(select i, s collate "en-x-icu" as s from s.t) as t'))
        icu = cur.fetchall()
    if ordered:
        assert in_engine == native, f"{sql}\nengine SQL: {plan.engine_sql}"
    else:
        assert _normalised(in_engine) == _normalised(native), plan.engine_sql
    if construct is not exp.Min:
        assert (icu != native) if ordered else (_normalised(icu) != _normalised(native)), sql


# -- literals with a UTC offset (dbt's microbatch window) ----------------------------------

E = PlanInput(RelationKey("", "s", "e"), "pg", "source.p.s.e")
E_COLUMNS = [("id", "integer"), ("ts", "timestamp"), ("tz", "timestamptz"), ("d", "date")]
E_TIMES = [
    dt.datetime(2024, 1, 1, 0, 0),
    dt.datetime(2023, 12, 31, 19, 0),
    dt.datetime(2024, 1, 1, 5, 0),
    dt.datetime(2024, 1, 1, 5, 30, 0, 500000),
    dt.datetime(2024, 1, 2, 0, 0),
    dt.datetime(2024, 3, 10, 2, 30),  # not a New York time
    dt.datetime(2024, 3, 10, 7, 30),
    dt.datetime(2023, 12, 31, 10, 0, 0, 123456),
    dt.datetime(2024, 11, 3, 5, 30),  # 01:30 EDT, the first of New York's two
]
E_ROWS = [(i, t, t.replace(tzinfo=dt.UTC), t.date()) for i, t in enumerate(E_TIMES)]
E_ROWS.append((len(E_TIMES), None, None, None))
#: The same instants written with several offsets, and instants between the rows.
INSTANTS = [
    "2024-01-01 00:00:00+00:00",
    "2024-01-01 23:00:00-05:00",
    "2024-01-01 05:00:00+05",
    "2024-01-01 05:30:00.5+05:30",
    "2023-12-31 19:00:00-05:00",
    "2024-03-10 02:30:00-05:00",
    "2024-01-01 00:00:00.123456+14:00",
    "2024-11-03 01:30:00-04:00",
    "2024-01-02 00:00:00-00",
]
ZONES = ["UTC", "America/New_York", "Asia/Kolkata", "Pacific/Kiritimati"]


def _instant_queries() -> list[str]:
    queries = []
    for column in ("ts", "tz", "d"):
        for literal in INSTANTS:
            for op in ("=", "<>", "<", "<=", ">", ">="):
                queries.append(f"select id from s.e where {column} {op} '{literal}'")
            queries.append(
                f"select id from s.e where {column} between '{INSTANTS[1]}' and '{literal}'"
            )
    return queries


def _plan_e(sql: str, reads_instants: bool = True, engine: str = "duckdb") -> Any:
    reading = {"pg": Reading(reads_instants=reads_instants)}
    schemas = {E.key: E_COLUMNS}
    return plan_federation(
        sql, "postgres", [E], schemas, model="model.p.m", readings=reading, engine_dialect=engine
    )


@pytest.fixture(scope="module")
def instants(postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The rows on PostgreSQL (the oracle's database in America/New_York), in DuckDB, and in
    a SQLite file (without the timestamptz column: SQLite has none)."""
    import psycopg2

    from dvt.embedded import connect, extension_path

    postgres.create_database("instants")
    postgres.psql("alter database instants set timezone = 'America/New_York'")
    with psycopg2.connect(postgres.dsn_for("instants")) as conn, conn.cursor() as cur:
        cur.execute("create schema s")
        cur.execute(f"create table s.e ({', '.join(f'{n} {t}' for n, t in E_COLUMNS)})")
        cur.executemany("insert into s.e values (%s, %s, %s, %s)", E_ROWS)
    lite = tmp_path_factory.mktemp("instants") / "e.sqlite"
    with sqlite3.connect(lite) as conn:
        conn.execute("create table e (id integer, ts timestamp, d date)")
        conn.executemany(
            "insert into e values (?, ?, ?)",
            [(i, t and t.isoformat(sep=" "), d and d.isoformat()) for i, t, _, d in E_ROWS],
        )
    engine = connect()
    engine.execute(f"LOAD '{extension_path('sqlite_scanner')}'")
    engine.execute(f"ATTACH '{lite}' AS lite (TYPE sqlite, READ_ONLY)")
    engine.execute(f"create table e ({', '.join(f'{n} {t}' for n, t in E_COLUMNS)})")
    engine.executemany("insert into e values (?, ?, ?, ?)", E_ROWS)
    return postgres, engine


def _ids(rows: list[tuple[Any, ...]]) -> list[Any]:
    return sorted(row[0] for row in rows)


def test_instant_literals_read_alike_on_every_source(instants: Any) -> None:
    """Each comparison with an instant literal, pushed into the input's read, selects the rows
    it selects on the target (PostgreSQL in America/New_York) on PostgreSQL and DuckDB in any
    session TimeZone, and through the sqlite scanner; the engine computes it alike too."""
    import psycopg2

    postgres, engine = instants
    queries = _instant_queries()
    zone_of = "select current_setting('TimeZone')"
    with psycopg2.connect(postgres.dsn_for("instants")) as conn, conn.cursor() as cur:
        for zone in ZONES:
            engine.execute(f"SET TimeZone = '{zone}'")
            assert engine.execute(zone_of).fetchone() == (zone,)
            for sql in queries:
                plan = _plan_e(sql)
                (read,) = plan.extractions
                assert read.predicates and not plan.not_pushed, sql
                assert plan.engine_refusal is None, f"{sql}: {plan.engine_refusal}"
                cur.execute("set timezone = 'America/New_York'")
                cur.execute(sql)
                want = _ids(cur.fetchall())
                cur.execute(f"set timezone = '{zone}'")
                cur.execute(read.render(exp.table_("e", db="s"), "postgres"))
                assert _ids(cur.fetchall()) == want, f"PostgreSQL in {zone}: {sql}"
                duck_read = read.render(exp.table_("e"), "duckdb")
                assert _ids(engine.execute(duck_read).fetchall()) == want, f"DuckDB, {zone}: {sql}"
                if " tz " not in sql:
                    lite_read = read.render(exp.table_("e", db="lite"), "duckdb")
                    found = _ids(engine.execute(lite_read).fetchall())
                    assert found == want, f"sqlite scanner, {zone}: {sql}"
                # On the connection whose TimeZone is set (a new cursor has the default zone).
                engine.execute("create or replace temp view dvt_in_0 as select * from e")
                in_engine = _ids(engine.execute(plan.engine_sql).fetchall())
                assert in_engine == want, f"the engine, {zone}: {plan.engine_sql}"


#: Literals with an offset (or a zone) that are not proven to read alike: kept on the target.
UNPROVEN = {
    "no offset, against a timestamptz": "select id from s.e where tz >= '2024-01-01 00:00:00'",
    "a bare date as a timestamptz": "select id from s.e where tz >= timestamptz '2024-01-01'",
    "no seconds (DuckDB refuses it)": "select id from s.e where ts >= '2024-01-01 00:00+00:00'",
    "a T between date and time": "select id from s.e where ts >= '2024-01-01T00:00:00+00:00'",
    "an offset with seconds": "select id from s.e where tz < '2024-01-01 00:00:00+05:30:15'",
    "a set of instants": "select id from s.e where tz in ('2024-01-01 00:00:00+00:00')",
    "an instant plus an interval": "select id from s.e where tz + interval '1 hour' > '2024-01-01 00:00:00+00'",
}


@pytest.mark.parametrize("name", sorted(UNPROVEN))
def test_unproven_offsets_are_neither_pushed_nor_computed_in_the_engine(name: str) -> None:
    plan = _plan_e(UNPROVEN[name])
    assert plan.not_pushed and not plan.extractions[0].predicates, plan.extractions
    assert plan.engine_refusal, UNPROVEN[name]


def test_instant_literals_stay_on_the_target_where_the_source_reads_them_otherwise() -> None:
    """A source whose reading is not proven (MySQL: `reads_instants` False) keeps the window
    on the target; Spark has no entry for such a literal."""
    sql = "select id from s.e where ts >= '2024-01-01 00:00:00+00:00' and tz < '2024-01-02 00:00:00+00:00'"
    kept = _plan_e(sql, reads_instants=False)
    assert len(kept.not_pushed) == 2 and not kept.extractions[0].predicates
    assert kept.engine_refusal is None  # the engine (DuckDB) reads it as PostgreSQL does
    assert "with a UTC offset" in (_plan_e(sql, engine="spark").engine_refusal or "")


#: A timestamptz compared with dates or timestamps through a set: local times of the target
#: session's zone on PostgreSQL; DuckDB compares a subquery's dates at UTC midnight.
MIXED_MEMBERSHIP = {
    "IN of dates": "select id from s.e where tz in (select d from s.e)",
    "= ANY of dates": "select id from s.e where tz = any (select d from s.e)",
    "NOT IN of timestamps": "select id from s.e where tz not in (select ts from s.e where ts is not null)",
    "IN of a list of dates": "select id from s.e where tz in (date '2024-01-01', date '2024-01-02')",
}


@pytest.mark.parametrize("name", sorted(MIXED_MEMBERSHIP))
def test_a_timestamptz_in_a_set_of_local_times_stays_on_the_target(
    instants: Any, name: str
) -> None:
    import psycopg2

    postgres, engine = instants
    sql = MIXED_MEMBERSHIP[name]
    plan = _plan_e(sql)
    assert plan.engine_refusal and "timestamptz with a local" in plan.engine_refusal, sql
    with psycopg2.connect(postgres.dsn_for("instants")) as conn, conn.cursor() as cur:
        cur.execute(sql)
        want = _ids(cur.fetchall())
    engine.execute("SET TimeZone = 'America/New_York'")
    engine.execute("create or replace temp view dvt_in_0 as select * from e")
    engine.execute("create or replace temp view dvt_in_1 as select * from e")
    if name == "IN of dates":  # why it is refused: the engine's answer is another
        assert _ids(engine.execute(plan.engine_sql).fetchall()) != want, plan.engine_sql
