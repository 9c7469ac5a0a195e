"""Generated PostgreSQL SELECTs over the differential tables, the kind an analyst writes.

Hypothesis draws each query from typed strategies (every expression has a kind, so PostgreSQL
accepts every query); `generate()` collects them in small batches, each from a fixed `@seed` and
with no example database, so every run generates the same queries. Each query is deterministic
given its inputs: a LIMIT comes with an ORDER BY over every output column, a window orders by the
key of every input it reads, and a subquery with LIMIT orders by its input's key last. Filters
compare columns mostly with values drawn from their own data, so they keep some rows.

Inputs are written `{table}`; the harness renders them as `source()` calls for DVT and as the
oracle's copies for PostgreSQL.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from tests.conformance.dataset import BY_NAME, LINKS, TABLES
from tests.conformance.harness import Case

NUMBERS = ("int", "bigint", "numeric", "float")
TEXTS = ("text", "varchar")
MOMENTS = ("date", "ts", "tstz")
#: Kinds a comparison or a set operation may mix.
FAMILY = {k: NUMBERS for k in NUMBERS} | {k: TEXTS for k in TEXTS} | {k: MOMENTS for k in MOMENTS}
FAMILY["bool"] = ("bool",)
FAMILY["interval"] = ("interval",)
#: Kinds min() and max() accept.
ORDERED = (*NUMBERS, *TEXTS, *MOMENTS)
#: The kind of sum() over each kind.
SUMMED = {"int": "bigint", "bigint": "numeric", "numeric": "numeric", "float": "float"}
#: (table, column) pairs that join to another table.
LINK_ENDS = {end for link in LINKS for end in link}
#: Tables small enough for a cross join with any other.
SMALL = ("regions", "products")

LITERALS = {
    "int": ["0", "1", "2", "3", "5", "7", "10", "100", "(-1)"],
    "bigint": ["0::bigint", "1000000::bigint", "9007199254740993"],
    "numeric": ["0.00", "1.5", "2.50", "100.00", "(-0.5)", "1000.00", "0.05"],
    "float": ["0.5::float8", "2.5::float8", "1e3::float8", "0.1::float8", "(-1.5::float8)"],
    "text": [
        "'Ann'", "'ann'", "'M'", "'Great'", "'great'", "'retail'", "'Retail'", "'US'", "'us'",
        "'é'", "'Chloé'", "''", "'shipped'", "'Books'", "'Ann '", "'zed'", "'a_b'",
    ],
    "varchar": ["'Great'", "'great'", "'Great '", "'okay'", "'Très bien'"],
    "date": ["date '2024-01-01'", "date '2024-03-10'", "date '2024-02-29'", "date '2023-06-15'"],
    "ts": [
        "timestamp '2024-03-10 02:30:00'",
        "timestamp '2024-01-01 00:00:00'",
        "timestamp '2024-06-30 12:00:00'",
    ],
    "tstz": [
        "timestamptz '2024-03-10 07:00:00+00'",
        "timestamptz '2024-01-01 00:00:00-05'",
        "timestamptz '2024-11-03 06:00:00+00'",
        "timestamptz '2024-06-30 20:00:00+02'",
    ],
    "bool": ["true", "false"],
    "interval": ["interval '1 day'", "interval '36 hours'", "interval '90 minutes'"],
}  # fmt: skip
LIKE_PATTERNS = [
    "'A%'", "'a%'", "'%a%'", "'_n%'", "'a\\_b'", "'a\\%b'", "'%é%'", "'%É%'", "'b%'", "'%e'",
    "'G%'", "'g%'", "'% '", "'%\\\\%'", "'%ss%'", "'Ch%'", "'%ED%'",
]  # fmt: skip
TO_CHAR_FORMATS = ["'YYYY-MM-DD'", "'YYYY-MM-DD HH24:MI:SS'", "'Dy Mon DD'", "'IYYY-IW'"]
DATE_UNITS = ["'month'", "'year'", "'week'"]
TIME_UNITS = ["'day'", "'hour'", "'month'"]
ESCAPED_PATTERNS = ["'a!_b'", "'%!%%'"]
TIME_ZONES = ["'UTC'", "'Asia/Tokyo'", "'America/Los_Angeles'"]


@dataclass(frozen=True)
class Col:
    sql: str
    kind: str
    #: "table.column" the values come from, so a derived table keeps its links.
    origin: str = ""


@dataclass(frozen=True)
class Rel:
    """One relation in a FROM clause: a table or a derived table, under an alias."""

    alias: str
    from_sql: str
    columns: tuple[Col, ...]
    key: str  # column SQL, unique (and non-null, or null in at most one row)
    rows: int
    tables: tuple[str, ...]


class Draw:
    """Hypothesis's `draw`, with the choices this generator makes."""

    def __init__(self, draw: Callable[[st.SearchStrategy[Any]], Any]) -> None:
        self.draw = draw

    def pick(self, items: Sequence[Any]) -> Any:
        return self.draw(st.sampled_from(list(items)))

    def chance(self, percent: int) -> bool:
        return bool(self.draw(st.integers(0, 99)) < percent)

    def count(self, low: int, high: int) -> int:
        return int(self.draw(st.integers(low, high)))


def base(table_name: str, alias: str) -> Rel:
    table = BY_NAME[table_name]
    columns = tuple(
        Col(f"{alias}.{c.name}", c.kind, f"{table.name}.{c.name}") for c in table.columns
    )
    return Rel(
        alias,
        f"{{{table.name}}} {alias}",
        columns,
        f"{alias}.{table.key}",
        len(table.rows),
        (table.name,),
    )


def _links(left: Col, right: Col) -> bool:
    pair = (tuple(left.origin.split(".")), tuple(right.origin.split(".")))
    return pair in LINKS or pair[::-1] in LINKS


@dataclass
class Scope:
    rels: list[Rel] = field(default_factory=list)

    @property
    def columns(self) -> list[Col]:
        return [c for r in self.rels for c in r.columns]

    def of_kind(self, *kinds: str) -> list[Col]:
        return [c for c in self.columns if c.kind in kinds]

    @property
    def keys(self) -> list[str]:
        return [r.key for r in self.rels]


# Expressions ----------------------------------------------------------------------------------


class Exprs:
    """Typed expressions over a scope; `focus` biases toward one area's functions."""

    def __init__(self, d: Draw, scope: Scope, focus: str = "") -> None:
        self.d = d
        self.scope = scope
        self.focus = focus

    def literal(self, kind: str) -> str:
        return self.d.pick(LITERALS[kind])

    def leaf(self, kind: str) -> str:
        columns = self.scope.of_kind(kind)
        if columns and self.d.chance(85):
            return self.d.pick(columns).sql
        return self.literal(kind)

    def has(self, kind: str) -> bool:
        return bool(self.scope.of_kind(kind))

    def expr(self, kind: str, depth: int = 2) -> str:
        if depth <= 0 or self.d.chance(45):
            return self.leaf(kind)
        options = self._compound(kind, depth - 1)
        return self.d.pick(options)() if options else self.leaf(kind)

    def _compound(self, kind: str, depth: int) -> list[Callable[[], str]]:
        e, d = self.expr, self.d
        any_num = lambda: e(d.pick(("int", "numeric")), depth)  # noqa: E731
        options: dict[str, list[Callable[[], str]]] = {
            "int": [
                lambda: f"({e('int', depth)} + {e('int', depth)})",
                lambda: f"({e('int', depth)} - {self.literal('int')})",
                lambda: f"({e('int', depth)} * {d.pick(['2', '3', '-1'])})",
                lambda: f"({e('int', depth)} / nullif({e('int', depth)}, 0))",
                lambda: f"({e('int', depth)} % nullif({e('int', depth)}, 0))",
                lambda: f"({e('int', depth)} / {d.pick(['2', '3', '7'])})",
                lambda: f"length({e(d.pick(TEXTS), depth)})",
                lambda: f"abs({e('int', depth)})",
                lambda: f"coalesce({e('int', depth)}, {self.literal('int')})",
                lambda: f"({e('date', depth)} - {e('date', depth)})",
                lambda: f"(({e('date', depth)} - {e('date', depth)}) / 7)",
                lambda: self._extract(["year", "month", "dow"], ["hour"], depth) + "::int",
                lambda: f"position({self.literal('text')} in {e('text', depth)})",
                self._case("int", depth),
            ],
            "bigint": [
                lambda: f"{e('int', depth)}::bigint",
                lambda: f"({e('bigint', depth)} + {e('int', depth)})",
                lambda: f"({e('bigint', depth)} / nullif({e('int', depth)}, 0))",
                lambda: f"({e('bigint', depth)} * {d.pick(['2', '-1'])})",
                lambda: f"coalesce({e('bigint', depth)}, 0)",
            ],
            "numeric": [
                lambda: f"({e('numeric', depth)} * {e('int', depth)})",
                lambda: f"({e('numeric', depth)} + {e('numeric', depth)})",
                lambda: f"({e('numeric', depth)} / nullif({any_num()}, 0))",
                lambda: f"({e('int', depth)} / {d.pick(['3.0', '2.5', '7.00'])})",
                lambda: f"round({e('numeric', depth)}, {d.pick(['0', '1'])})",
                lambda: f"round({e('numeric', depth)})",
                lambda: f"trunc({e('numeric', depth)})",
                lambda: f"abs({e('numeric', depth)})",
                lambda: f"coalesce({e('numeric', depth)}, 0)",
                lambda: f"{e('int', depth)}::numeric(12,2)",
                lambda: self._extract(["epoch", "day", "quarter", "doy"], ["hour"], depth),
                lambda: f"{e('float', depth)}::numeric(20,4)",
                self._case("numeric", depth),
            ],
            "float": [
                lambda: f"({e('float', depth)} * {d.pick(['2', '0.5', '-1'])})",
                lambda: f"({e('float', depth)} + {e('float', depth)})",
                lambda: f"round({e('float', depth)})",
                lambda: f"floor({e('float', depth)})",
                lambda: f"({e('float', depth)} / nullif({e('float', depth)}, 0))",
                lambda: f"sqrt(abs({e('float', depth)}))",
                lambda: f"{any_num()}::float8",
                lambda: f"abs({e('float', depth)})",
                lambda: (
                    f"date_part({d.pick(['hour', 'day', 'epoch'])!r}, {e(d.pick(MOMENTS), depth)})"
                ),
            ],
            "text": [
                lambda: f"lower({e(d.pick(TEXTS), depth)})",
                lambda: f"upper({e(d.pick(TEXTS), depth)})",
                lambda: f"({e(d.pick(TEXTS), depth)} || '-' || {e(d.pick(TEXTS), depth)})",
                lambda: f"trim({e(d.pick(TEXTS), depth)})",
                lambda: f"rtrim({e(d.pick(TEXTS), depth)})",
                lambda: f"substr({e(d.pick(TEXTS), depth)}, 1, {d.pick(['1', '2', '3'])})",
                lambda: f"coalesce({e(d.pick(TEXTS), depth)}, 'none')",
                lambda: f"replace({e(d.pick(TEXTS), depth)}, 'a', 'o')",
                lambda: f"left({e(d.pick(TEXTS), depth)}, 2)",
                lambda: f"{e(d.pick(('int', 'numeric', 'bigint')), depth)}::text",
                lambda: f"{e('float', depth)}::text",
                lambda: f"{e(d.pick(MOMENTS), depth)}::text",
                lambda: f"concat({e('text', depth)}, {e('int', depth)})",
                lambda: f"to_char({e(d.pick(MOMENTS), depth)}, {d.pick(TO_CHAR_FORMATS)})",
                lambda: f"to_char({e('numeric', depth)}, 'FM999999990.00')",
                self._case("text", depth),
            ],
            "varchar": [lambda: f"{e('text', depth)}::varchar(60)"],
            "date": [
                lambda: f"{e('ts', depth)}::date",
                lambda: f"{e('tstz', depth)}::date",
                lambda: f"({e('date', depth)} + {d.pick(['1', '7', '30', '-1'])})",
                lambda: f"date_trunc({d.pick(DATE_UNITS)}, {e('date', depth)})::date",
                lambda: f"coalesce({e('date', depth)}, date '2024-01-01')",
                lambda: f"({e('date', depth)} + {e('int', depth)})",
            ],
            "ts": [
                lambda: f"date_trunc({d.pick(TIME_UNITS)}, {e('ts', depth)})",
                lambda: f"({e('ts', depth)} + {self.literal('interval')})",
                lambda: f"({e('date', depth)} + {self.literal('interval')})",
                lambda: f"{e('tstz', depth)}::timestamp",
                lambda: f"({e('tstz', depth)} at time zone {d.pick(TIME_ZONES)})",
                lambda: f"{e('date', depth)}::timestamp",
            ],
            "tstz": [
                lambda: f"date_trunc({d.pick(TIME_UNITS)}, {e('tstz', depth)})",
                lambda: f"({e('tstz', depth)} + {self.literal('interval')})",
                lambda: f"({e('tstz', depth)} - {self.literal('interval')})",
                lambda: f"{e('ts', depth)}::timestamptz",
                lambda: f"({e('ts', depth)} at time zone {d.pick(TIME_ZONES)})",
                lambda: f"date_trunc('month', {e('date', depth)})",
                lambda: f"{e('date', depth)}::timestamptz",
            ],
            "bool": [lambda: self.predicate(depth)],
            "interval": [
                lambda: f"({e('ts', depth)} - {e('date', depth)})",
                lambda: f"({e('ts', depth)} - {e('ts', depth)})",
                lambda: f"({e('tstz', depth)} - {e('tstz', depth)})",
                lambda: f"({e('tstz', depth)} - {e('date', depth)})",
            ],
        }
        found = options.get(kind, [])
        preferred = {
            "time": ("date", "ts", "tstz", "interval"),
            "text": TEXTS,
            "number": NUMBERS,
        }.get(self.focus, ())
        if kind in preferred:
            found = found * 2
        return found

    def _extract(self, units: list[str], time_units: list[str], depth: int) -> str:
        kind = self.d.pick(MOMENTS)
        unit = self.d.pick(units if kind == "date" else units + time_units * 2)
        return f"extract({unit} from {self.expr(kind, depth)})"

    def _case(self, kind: str, depth: int) -> Callable[[], str]:
        return lambda: (
            f"case when {self.predicate(depth)} then {self.expr(kind, depth)} "
            f"else {self.expr(kind, depth)} end"
        )

    def key(self) -> tuple[str, str]:
        """A grouping or partitioning expression: a column, or an expression over one (PostgreSQL
        reads a bare constant in GROUP BY as an error, or as a position)."""
        column = self.d.pick(self.scope.columns)
        if self.d.chance(75):
            return column.sql, column.kind
        sql = self.expr(column.kind, 1)
        return (sql, column.kind) if column.sql in sql else (column.sql, column.kind)

    def key_of(self, kind: str) -> str:
        """An expression of `kind` over a column of that kind, never a bare constant."""
        column = self.d.pick(self.scope.of_kind(kind)).sql
        sql = self.expr(kind, 1)
        return sql if column in sql or any(c.sql in sql for c in self.scope.columns) else column

    def column_kind(self, kinds: Sequence[str] = ()) -> str:
        """A kind some column of the scope has (the focus's kinds first)."""
        present = sorted({c.kind for c in self.scope.columns if not kinds or c.kind in kinds})
        return self.d.pick(present) if present else self.d.pick(kinds or ("int",))

    def value(self, column: Col) -> str:
        """A literal drawn from the column's own data (a literal of its kind if none)."""
        values = _values(column.origin)
        return (
            sql_literal(self.d.pick(values), column.kind) if values else self.literal(column.kind)
        )

    def predicate(self, depth: int = 1) -> str:
        """A boolean condition over the scope, mostly on one column against its own values, so
        that filters keep some rows and drop others."""
        d = self.d
        if depth > 0 and d.chance(20):
            joiner = d.pick([" and ", " or ", " or "])
            return f"({self.predicate(depth - 1)}{joiner}{self.predicate(depth - 1)})"
        if not self.scope.columns:
            return self.literal("bool")
        column = d.pick(self.scope.columns)
        kind, sql = column.kind, column.sql
        if d.chance(15) and kind != "bool":  # an expression over the column
            sql = self.key_of(kind) if kind in LITERALS else sql
        others = [c for c in self.scope.of_kind(*FAMILY[kind]) if c.sql != column.sql]
        keys = {r.key for r in self.scope.rels}
        choices: list[Callable[[], str]] = [
            lambda: (
                f"{sql} is {d.pick(['not null'] if sql in keys else ['null', 'not null', 'not null'])}"
            ),
            lambda: f"{sql} is distinct from {self.value(column)}",
        ]
        if kind == "bool":
            choices += [lambda: sql, lambda: f"not {sql}", lambda: f"{sql} = {self.literal(kind)}"]
        else:
            choices += [
                lambda: f"{sql} {d.pick(['=', '<>', '<', '<=', '>', '>='])} {self.value(column)}",
                lambda: f"{sql} {d.pick(['<', '>=', '='])} {self.value(column)}",
                lambda: f"{sql} {d.pick(['', '', 'not '])}between {self.bounds(column)}",
                lambda: (
                    f"{sql} {d.pick(['in', 'in', 'not in'])} "
                    f"({', '.join(sorted({self.value(column) for _ in range(3)}))})"
                ),
                lambda: (
                    f"{sql} {d.pick(['in', 'not in'])} "
                    f"({', '.join(sorted({self.literal(kind), self.value(column)}))})"
                ),
            ]
            if others:
                choices.append(
                    lambda: f"{sql} {d.pick(['=', '<>', '<', '>='])} {d.pick(others).sql}"
                )
        if kind in TEXTS:
            choices += [
                lambda: (
                    f"{sql} {d.pick(['like', 'not like', 'ilike', 'not ilike'])} "
                    f"{d.pick(LIKE_PATTERNS)}"
                ),
                lambda: f"{sql} {d.pick(['like', 'ilike'])} {self.like_prefix(column)}",
                lambda: f"{sql} = {self.literal(kind)}",
                lambda: f"upper({sql}) = upper({self.value(column)})",
                lambda: f"lower({sql}) {d.pick(['=', '<', '>'])} {self.literal(kind)}",
                lambda: f"{sql} like {d.pick(ESCAPED_PATTERNS)} escape '!'",
            ]
        return d.pick(choices)()

    def bounds(self, column: Col) -> str:
        """`low and high` from the column's values, the smaller first (a BETWEEN the wrong way
        round is empty: a fine case, but rarely an analyst's)."""
        values = _values(column.origin)
        if not values:
            return f"{self.literal(column.kind)} and {self.literal(column.kind)}"
        low, high = sorted([self.d.pick(values), self.d.pick(values)])
        return f"{sql_literal(low, column.kind)} and {sql_literal(high, column.kind)}"

    def like_prefix(self, column: Col) -> str:
        values = [v for v in _values(column.origin) if v]
        if not values:
            return self.d.pick(LIKE_PATTERNS)
        text = self.d.pick(values)
        cut = self.d.count(1, max(1, len(text) - 1))
        pattern = self.d.pick([text[:cut] + "%", "%" + text[cut:], "_" + text[1:]])
        return sql_literal(pattern.replace("\\", "\\\\"), "text")


def _values(origin: str) -> list[Any]:
    """The distinct non-null values of `table.column`, in a stable order."""
    if "." not in origin:
        return []
    table_name, column = origin.split(".")
    table = BY_NAME[table_name]
    index = [c.name for c in table.columns].index(column)
    return sorted({row[index] for row in table.rows if row[index] is not None}, key=repr)


def sql_literal(value: Any, kind: str) -> str:
    """A PostgreSQL literal of `kind` for one stored value (negative numbers in parentheses,
    since `-1.5::text` casts before it negates)."""
    if kind in NUMBERS and str(value).startswith("-"):
        return f"(-{sql_literal(-value, kind)})"
    if kind in TEXTS:
        return "'" + str(value).replace("'", "''") + "'"
    if kind == "float":
        return f"{value!r}::float8"
    if kind == "bool":
        return "true" if value else "false"
    if kind == "bigint":
        return f"{value}::bigint"
    if kind in ("date", "ts"):
        return (
            f"{'date' if kind == 'date' else 'timestamp'} '{value.isoformat(sep=' ')}'"
            if kind == "ts"
            else f"date '{value.isoformat()}'"
        )
    if kind == "tstz":
        return f"timestamptz '{value.isoformat(sep=' ')}'"
    return str(value)


# Queries --------------------------------------------------------------------------------------


def _pick_table(d: Draw, exclude: Sequence[str] = ()) -> str:
    return d.pick([t.name for t in TABLES if t.name not in exclude])


def join_condition(d: Draw, left: Scope, right: Rel) -> str | None:
    """An equality on linked columns between the scope and `right`, if any link exists."""
    pairs = [(a, b) for a in left.columns for b in right.columns if _links(a, b)]
    if not pairs:
        return None
    a, b = d.pick(pairs)
    condition = f"{a.sql} = {b.sql}"
    if d.chance(20):
        extra = Exprs(d, Scope([*left.rels, right])).predicate(0)
        condition += f" and {extra}"
    return condition


def from_clause(d: Draw, tables: int, *, first: Rel | None = None) -> tuple[str, Scope]:
    """FROM with joins of every kind across inputs on different databases, the first of them
    sometimes parenthesised."""
    rel = first or base(_pick_table(d), "t0")
    scope = Scope([rel])
    sql = rel.from_sql
    for i in range(1, tables):
        if i == 2 and d.chance(25):  # the first join as a parenthesised group: (a join b) join c
            sql = f"({sql})"
        linked = [
            t.name
            for t in TABLES
            if t.name not in {n for r in scope.rels for n in r.tables}
            and any(_links(a, b) for a in scope.columns for b in base(t.name, "x").columns)
        ]
        small = [
            t
            for t in SMALL
            if t not in {n for r in scope.rels for n in r.tables}
            and max(r.rows for r in scope.rels) * len(BY_NAME[t].rows) <= 12_000
        ]
        if linked and (not small or d.chance(85)):
            right = base(d.pick(linked), f"t{i}")
            condition = join_condition(d, scope, right)
            kind = d.pick(["join", "inner join", "left join", "right join", "full join"])
            partner = _partner(d, scope, right) if d.chance(15) else None
            if partner is None:
                sql += f"\n{kind} {right.from_sql} on {condition}"
            else:  # a parenthesised group joined as one: a join NULL-extends both its tables
                inner = join_condition(d, Scope([right]), partner)
                grouped = f"({right.from_sql} join {partner.from_sql} on {inner})"
                sql += f"\n{kind} {grouped} on {condition}"
                scope.rels.append(partner)
        elif small:
            right = base(d.pick(small), f"t{i}")
            if d.chance(50):
                sql += f"\ncross join {right.from_sql}"
            else:
                condition = Exprs(d, Scope([*scope.rels, right])).predicate(0)
                kind = d.pick(["join", "left join"])  # FULL JOIN needs an equality
                sql += f"\n{kind} {right.from_sql} on {condition}"
        else:
            break
        scope.rels.append(right)
    return sql, scope


def _partner(d: Draw, scope: Scope, right: Rel) -> Rel | None:
    """A table not in the query yet that joins `right` on linked columns, if any."""
    used = {n for r in (*scope.rels, right) for n in r.tables}
    candidates = [
        t.name
        for t in TABLES
        if t.name not in used
        and any(_links(a, b) for a in right.columns for b in base(t.name, "x").columns)
    ]
    return base(d.pick(candidates), f"{right.alias}g") if candidates else None


def where_clause(d: Draw, scope: Scope, focus: str = "", most: int = 2) -> str:
    exprs = Exprs(d, scope, focus)
    conjuncts = [exprs.predicate() for _ in range(d.count(0, most))]
    return f"\nwhere {' and '.join(conjuncts)}" if conjuncts else ""


def projections(d: Draw, scope: Scope, focus: str = "", most: int = 4) -> list[tuple[str, str]]:
    exprs = Exprs(d, scope, focus)
    kinds = {
        "time": ("date", "ts", "tstz", "interval", "int", "numeric", "text"),
        "text": ("text", "text", "varchar", "int", "bool"),
        "number": ("int", "bigint", "numeric", "float", "numeric", "int"),
    }.get(focus)
    chosen = []
    for _ in range(d.count(1, most)):
        if kinds is None and d.chance(40):
            chosen.append(d.pick(scope.columns))
            continue
        kind = d.pick(kinds) if kinds else exprs.column_kind()
        chosen.append(Col(exprs.expr(kind), kind))
    return [(c.sql, c.kind) for c in chosen]


def select_list(items: Sequence[tuple[str, str]]) -> str:
    return ", ".join(f"{sql} as c{i}" for i, (sql, _) in enumerate(items, 1))


def order_limit(d: Draw, width: int) -> str:
    """ORDER BY every output column, so LIMIT keeps a determined multiset."""
    if not d.chance(30):
        return ""
    directions = [f"{i}{d.pick(['', ' desc', ' nulls first', ' desc nulls last'])}"
                  for i in range(1, width + 1)]  # fmt: skip
    return f"\norder by {', '.join(directions)}\nlimit {d.pick([1, 3, 5, 10, 25])}"


@st.composite
def join_queries(draw: Any) -> Case:
    d = Draw(draw)
    from_sql, scope = from_clause(d, d.count(2, 3))
    items = projections(d, scope)
    distinct = "distinct " if d.chance(15) else ""
    sql = f"select {distinct}{select_list(items)}\nfrom {from_sql}{where_clause(d, scope)}"
    return Case("", sql + order_limit(d, len(items)), "join")


@st.composite
def filter_queries(draw: Any, focus: str) -> Case:
    d = Draw(draw)
    tables = d.count(1, 2)
    from_sql, scope = from_clause(d, tables)
    if tables == 1 and scope.rels[0].tables == ("customers",) and d.chance(70):
        from_sql, scope = from_clause(d, 2, first=scope.rels[0])  # a federated one
    items = projections(d, scope, focus)
    where = where_clause(d, scope, focus, most=2) or f"\nwhere {Exprs(d, scope, focus).predicate()}"
    sql = f"select {select_list(items)}\nfrom {from_sql}{where}"
    return Case("", sql + order_limit(d, len(items)), f"filter/{focus or 'mixed'}")


def aggregate(d: Draw, exprs: Exprs) -> tuple[str, str]:
    kind = exprs.column_kind()
    value = d.pick(exprs.scope.of_kind(kind)).sql if d.chance(70) else exprs.key_of(kind)
    options: list[tuple[str, str]] = [
        ("count(*)", "bigint"),
        (f"count({value})", "bigint"),
        (f"count(distinct {value})", "bigint"),
    ]
    if kind in NUMBERS:
        options += [(f"sum({value})", SUMMED[kind]), (f"avg({value})", "numeric")]
    if kind in ORDERED:
        options += [(f"{d.pick(['min', 'max'])}({value})", kind)]
    if kind in TEXTS:
        options += [(f"string_agg({value}, ',' order by {value})", "text")]
    if kind == "bool":
        options += [(f"{d.pick(['bool_and', 'bool_or'])}({value})", "bool")]
    return d.pick(options)


@st.composite
def aggregate_queries(draw: Any) -> Case:
    d = Draw(draw)
    from_sql, scope = from_clause(d, d.count(1, 3))
    exprs = Exprs(d, scope)
    keys = [exprs.key() for _ in range(d.count(1, 2) if d.chance(85) else 0)]
    aggregates = [aggregate(d, exprs) for _ in range(d.count(1, 3))]
    items = keys + aggregates
    sql = f"select {select_list(items)}\nfrom {from_sql}{where_clause(d, scope)}"
    if keys:
        by = ", ".join(str(i) for i in range(1, len(keys) + 1)) if d.chance(40) else None
        sql += f"\ngroup by {by or ', '.join(k for k, _ in keys)}"
        if d.chance(40):
            measure, kind = aggregate(d, exprs)
            if kind in NUMBERS:
                sql += f"\nhaving {measure} > {d.pick(['1', '2', '10', '100'])}"
            else:
                sql += f"\nhaving {measure} is not null"
    return Case("", sql + order_limit(d, len(items)), "aggregate")


@st.composite
def window_queries(draw: Any) -> Case:
    d = Draw(draw)
    from_sql, scope = from_clause(d, d.count(1, 2))
    exprs = Exprs(d, scope)
    total = ", ".join(scope.keys)
    partition = f"partition by {exprs.key()[0]} " if d.chance(70) else ""
    measure_column = d.pick(scope.of_kind(*NUMBERS))
    measure, measure_kind = measure_column.sql, measure_column.kind
    ordered = d.pick(scope.of_kind(*ORDERED)).sql
    window = d.pick(
        [
            (f"row_number() over ({partition}order by {total})", "bigint"),
            (f"rank() over ({partition}order by {ordered})", "bigint"),
            (f"dense_rank() over ({partition}order by {ordered} desc)", "bigint"),
            (f"sum({measure}) over ({partition.strip()})", "numeric"),
            (f"sum({measure}) over ({partition}order by {total})", "numeric"),
            (f"count(*) over ({partition.strip()})", "bigint"),
            (f"avg({measure}) over ({partition.strip()})", "numeric"),
            (f"lag({measure}) over ({partition}order by {total})", measure_kind),
            (f"max({ordered}) over ({partition}order by {total} rows between 2 preceding "
             "and current row)", "any"),
        ]
    )  # fmt: skip
    items = [*projections(d, scope, most=2), window]
    sql = f"select {select_list(items)}\nfrom {from_sql}{where_clause(d, scope, most=1)}"
    return Case("", sql + order_limit(d, len(items)), "window")


def _inner(d: Draw, outer: Scope, alias: str = "s") -> tuple[Rel, str | None]:
    """A table for a subquery, and a correlation with the outer scope when a link exists."""
    linked = [
        t.name
        for t in TABLES
        if any(_links(a, b) for a in outer.columns for b in base(t.name, alias).columns)
    ]
    if linked and d.chance(85):
        inner = base(d.pick(linked), alias)
        pairs = [(a, b) for a in outer.columns for b in inner.columns if _links(a, b)]
        a, b = d.pick(pairs)
        return inner, f"{b.sql} = {a.sql}"
    return base(_pick_table(d), alias), None


SUBQUERIES = (
    "scalar", "correlated", "correlated_limit", "in", "not_in", "any", "exists", "not_exists",
    "derived", "cte", "derived_limit",
)  # fmt: skip


@st.composite
def subquery_queries(draw: Any, kind_name: str) -> Case:
    d = Draw(draw)
    from_sql, scope = from_clause(d, d.count(1, 2))
    outer = Exprs(d, scope)
    inner, correlation = _inner(d, scope)
    inner_scope = Scope([inner])
    inner_exprs = Exprs(d, inner_scope)
    inner_where = where_clause(d, inner_scope, most=1)
    items = projections(d, scope, most=3)
    condition = ""
    where = where_clause(d, scope, most=1)
    if kind_name == "scalar":
        measure = inner_exprs.leaf(inner_exprs.column_kind(NUMBERS))
        agg = d.pick(["max", "min", "avg", "sum"])
        sub = f"(select {agg}({measure}) from {inner.from_sql}{inner_where})"
        target = outer.leaf(outer.column_kind(NUMBERS))
        if d.chance(50):
            condition = f"{target} {d.pick(['>', '<', '>=', '<>'])} {sub}"
        else:
            items.append((sub, "numeric"))
    elif kind_name in ("correlated", "correlated_limit") and correlation:
        on = f" where {correlation}" + inner_where.replace("\nwhere", " and")
        if kind_name == "correlated":
            value = inner_exprs.leaf(inner_exprs.column_kind(NUMBERS))
            agg = d.pick(["count(*)", f"max({value})", f"sum({value})", f"count({value})"])
            sub = f"(select {agg} from {inner.from_sql}{on})"
        else:
            value = d.pick(inner.columns)
            direction = d.pick(["", " desc", " nulls first", " desc nulls last"])
            sub = (
                f"(select {value.sql} from {inner.from_sql}{on} "
                f"order by {value.sql}{direction}, {inner.key} limit 1)"
            )
        items.append((sub, "any"))
    elif kind_name in ("in", "not_in", "any"):
        kinds = [c.kind for c in scope.columns]
        common = [k for k in kinds if inner_scope.of_kind(*FAMILY[k])]
        kind = d.pick(common) if common else "int"
        left = outer.leaf(kind)
        right = d.pick(inner_scope.of_kind(*FAMILY[kind]) or [Col(inner_exprs.leaf(kind), kind)])
        if correlation and d.chance(70):
            a, b = correlation.split(" = ")
            left, right = b, Col(a, "")
        sub = f"(select {right.sql} from {inner.from_sql}{inner_where})"
        operator = {"in": "in", "not_in": "not in", "any": d.pick(["= any", "<> all", "> any"])}
        condition = f"{left} {operator[kind_name]} {sub}"
    elif kind_name in ("exists", "not_exists"):
        on = f" where {correlation}" if correlation else ""
        on += inner_where.replace("\nwhere", " and" if on else " where")
        word = "exists" if kind_name == "exists" else "not exists"
        condition = f"{word} (select 1 from {inner.from_sql}{on})"
    else:
        return derived_query(
            d, kind_name if kind_name.startswith(("derived", "cte")) else "derived"
        )
    if condition:
        where = (where + f" and {condition}") if where else f"\nwhere {condition}"
    sql = f"select {select_list(items)}\nfrom {from_sql}{where}"
    return Case("", sql + order_limit(d, len(items)), f"subquery/{kind_name}")


def derived_query(d: Draw, kind_name: str) -> Case:
    """A grouped or limited derived table (or CTE) joined to another input."""
    table = _pick_table(d)
    inner_scope = Scope([base(table, "s")])
    linked = [c for c in inner_scope.columns if tuple(c.origin.split(".")) in LINK_ENDS]
    if kind_name == "derived_limit":
        rel = base(table, "s")
        direction = d.pick(["", " desc", " desc nulls last"])
        measure = d.pick(rel.columns)
        body = (f"select * from {rel.from_sql} order by {measure.sql}{direction}, {rel.key} "
                f"limit {d.pick([5, 20, 50])}")  # fmt: skip
        columns = tuple(Col(c.sql.replace("s.", "d."), c.kind, c.origin) for c in rel.columns)
        derived = Rel("d", "", columns, rel.key.replace("s.", "d."), 50, (table,))
    else:
        group = d.pick(linked or inner_scope.columns)
        value = d.pick(inner_scope.of_kind(*NUMBERS))
        body = (f"select {group.sql} as {group.sql[2:]}, count(*) as n, sum({value.sql}) as total, "
                f"max({value.sql}) as top from {{{table}}} s{where_clause(d, inner_scope, most=1)} "
                f"group by {group.sql}")  # fmt: skip
        columns = (
            Col(f"d.{group.sql[2:]}", group.kind, group.origin),
            Col("d.n", "bigint"),
            Col("d.total", SUMMED[value.kind]),
            Col("d.top", value.kind),
        )
        derived = Rel("d", "", columns, f"d.{group.sql[2:]}", 60, (table,))
    if kind_name == "cte":
        prefix, first = f"with d as (\n  {body}\n)\n", replace(derived, from_sql="d d")
    else:
        prefix, first = "", replace(derived, from_sql=f"(\n  {body}\n) d")
    from_sql, scope = from_clause(d, 2, first=first)
    items = projections(d, scope, most=3)
    sql = f"{prefix}select {select_list(items)}\nfrom {from_sql}{where_clause(d, scope, most=1)}"
    return Case("", sql + order_limit(d, len(items)), f"subquery/{kind_name}")


SET_OPERATORS = ("union", "union all", "intersect", "intersect all", "except", "except all")


@st.composite
def setop_queries(draw: Any, operator: str) -> Case:
    d = Draw(draw)
    width = d.count(1, 3)
    first_table = _pick_table(d)
    second_table = _pick_table(d, exclude=[first_table]) if d.chance(50) else first_table
    scopes = [Scope([base(first_table, "a")]), Scope([base(second_table, "b")])]
    kinds = []
    for _ in range(width):
        shared = [c.kind for c in scopes[0].columns if scopes[1].of_kind(*FAMILY[c.kind])]
        kinds.append(d.pick(shared or ["int"]))
    branches = []
    for index, scope in enumerate(scopes):
        exprs = Exprs(d, scope)
        items = []
        for kind in kinds:
            family = FAMILY[kind] if index else (kind,)
            own = [k for k in family if scope.of_kind(k)]
            items.append(exprs.leaf(d.pick(own)) if own else exprs.literal(kind))
        columns = ", ".join(f"{sql} as c{i}" for i, sql in enumerate(items, 1))
        branches.append(
            f"select {columns} from {scope.rels[0].from_sql}{where_clause(d, scope, most=1)}"
        )
    sql = f"{branches[0]}\n{operator}\n{branches[1]}"
    return Case("", sql + order_limit(d, width), f"setop/{operator.replace(' ', '_')}")


#: (label, strategy, how many distinct queries to take from it).
FAMILIES: list[tuple[str, st.SearchStrategy[Case], int]] = [
    ("join", join_queries(), 120),
    *((f"filter/{f or 'mixed'}", filter_queries(f), 32) for f in ("", "text", "time", "number")),
    ("aggregate", aggregate_queries(), 110),
    ("window", window_queries(), 60),
    *((f"subquery/{kind}", subquery_queries(kind), 12) for kind in SUBQUERIES),
    *((f"setop/{op}", setop_queries(op), 10) for op in SET_OPERATORS),
]
NOT_A_NAME = re.compile(r"\W+")
#: Examples per seed. Hypothesis builds later examples of a run by mutating earlier ones (near
#: copies that differ in one literal), so each small batch starts from a seed of its own.
BATCH = 8


def generate(scale: float = 1.0) -> list[Case]:
    """The generated cases, the same on every run: about 600 at scale 1. Each family's cases
    at a smaller scale are the first of its cases at scale 1, under the same names."""
    cases: list[Case] = []
    seen: set[str] = set()
    for label, strategy, count in FAMILIES:
        found = _distinct(label, strategy, max(1, int(count * scale)), seen)
        for number, case in enumerate(found, 1):
            name = f"g_{NOT_A_NAME.sub('_', label)}_{number:03d}"
            cases.append(Case(name, case.sql, case.family))
    return cases


def _distinct(
    label: str, strategy: st.SearchStrategy[Case], wanted: int, seen: set[str]
) -> list[Case]:
    found: list[Case] = []
    for batch in range(wanted * 4):
        if len(found) >= wanted:
            break

        @seed(zlib.crc32(f"{label}/{batch}".encode()))
        @settings(
            max_examples=BATCH,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
            deadline=None,
        )
        @given(strategy)
        def collect(case: Case) -> None:
            if len(found) < wanted and case.sql not in seen:
                seen.add(case.sql)
                found.append(case)

        collect()
    return found
