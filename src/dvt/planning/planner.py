"""The planner: pure SQLGlot rules over a model's compiled SQL (DESIGN.md section 6, "Plan").

1. find every relation the SQL reads and the input (and target) it belongs to;
2. qualify columns against the inputs' schemas, so each column is tied to one input occurrence;
3. project: each occurrence reads only the columns the query uses;
4. push down WHERE conjuncts that touch only one occurrence, unless that occurrence is on the
   null-supplying side of an outer join (pushing there would change the answer);
5. rewrite the query for the engine, each occurrence replaced by its extraction.

Uncorrelated scalar subqueries over one input (`(select max(ts) from {{ this }})`) are handed
to a caller-supplied evaluator first, so their value can be pushed into other inputs' reads;
`IN`, `ANY` and `EXISTS` subqueries are sets and stay as they are. Nothing pushed may change the
answer: a conjunct is pushed only when it means the same on its source (`semantics`), and a
LIMIT only into a scope whose every filter was pushed and that is not correlated.

The plan also says whether the whole query means the same in the engine (`engine_refusal`).
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

import sqlglot
import sqlglot.expressions as exp
from sqlglot.dialects.dialect import Dialect, DialectType, NormalizationStrategy
from sqlglot.errors import OptimizeError, ParseError
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, traverse_scope
from sqlglot.schema import MappingSchema

from dvt.exceptions import UnsupportedFederationError
from dvt.planning import numeric
from dvt.planning.models import (
    CorrelatedSubquery,
    Extraction,
    FederationPlan,
    PlanInput,
    RelationKey,
    Source,
)
from dvt.planning.semantics import (
    Reading,
    annotate,
    engine_refusal,
    float_division,
    kind_of,
    portable_predicate,
)

#: Columns of each input: {key: [(column, type), ...]}.
Schemas = Mapping[RelationKey, Sequence[tuple[str, str]]]
#: Evaluates a one-input scalar subquery: (True, value) for at most one row (value None for
#: NULL or no row), (False, None) when it returns several (the target raises its own error).
ScalarEvaluator = Callable[[PlanInput, exp.Select], tuple[bool, object]]
#: Subqueries whose parent makes them a set, not one value.
_SET_CONTEXTS = (exp.In, exp.Any, exp.All, exp.Exists, exp.From, exp.Join, exp.Lateral)


_OUTER_SIDES = {"LEFT": "right", "RIGHT": "left", "FULL": "both"}


def plan_federation(
    sql: str | exp.Expr,
    dialect: str,
    inputs: Sequence[PlanInput],
    schemas: Schemas,
    *,
    model: str,
    evaluate_scalar: ScalarEvaluator | None = None,
    engine_dialect: str = "duckdb",
    readings: Mapping[str, Reading] | None = None,
) -> FederationPlan:
    """Plan one model (its SQL, or that SQL parsed: the tree is planned in place). Raises
    DVT104 for SQL the planner cannot federate.

    `readings`: how each input's target reads a pushed predicate where databases differ (text
    compared its own way, a literal with a UTC offset read as the node's target reads it); a
    target not named gets `Reading()`, which pushes no literal with an offset.
    """
    tree = sql if isinstance(sql, exp.Expr) else parse_model_sql(sql, dialect, model)
    _exists_reads_no_columns(tree)
    _fold_integer_constants(tree)
    by_key = {i.key: i for i in inputs}
    # Names as the databases spell them, quoted: SQLGlot then folds them only where the model's
    # dialect folds quoted names (DuckDB), and "Order ID" stays "Order ID" for PostgreSQL.
    mapping = schema_mapping(schemas, dialect)
    written = [p.alias_or_name for p in tree.selects] if isinstance(tree, exp.Query) else []
    stars = tree.find(exp.Star) is not None
    if stars:  # marked before qualify expands each star and names what `order by 2` means
        for column in tree.find_all(exp.Column):
            column.meta[_WRITTEN] = True  # a star's columns carry no mark
        for select in tree.find_all(exp.Select):
            select.meta[_BY_POSITION] = _ordered_by_position(select)
    try:
        tree = qualify(
            tree,
            schema=mapping,
            dialect=dialect,
            quote_identifiers=False,
            validate_qualify_columns=False,
        )
    except OptimizeError as exc:
        raise UnsupportedFederationError(f"Model {model!r}: {exc}") from exc
    if Dialect.get_or_raise(dialect).NORMALIZATION_STRATEGY is _CASE_INSENSITIVE:
        stored = [name for columns in schemas.values() for name, _ in columns]
        _keep_output_spelling(tree, [*written, *stored])

    if stars:
        _prune_star_columns(tree)
    occurrences = _input_tables(tree, by_key, model)
    folded: list[Extraction] = []
    if evaluate_scalar is not None:
        for index, (plan_input, used) in enumerate(
            _fold_scalar_subqueries(tree, occurrences, evaluate_scalar)
        ):
            real = _real_names(schemas.get(plan_input.key, ()))
            columns = tuple(real(c) for c in used)
            folded.append(Extraction(f"dvt_folded_{index}", plan_input, columns))
        occurrences = _input_tables(tree, by_key, model)

    # Typed, so that the engine SQL keeps the source's semantics (PostgreSQL's `int / int` is
    # integer division: DuckDB and Spark need it spelled out).
    tree = annotate(tree, mapping, dialect)
    refusal = engine_refusal(tree, dialect, engine_dialect)
    bytewise_refusal = refusal and engine_refusal(tree, dialect, engine_dialect, bytewise_text=True)
    aggregates = _aggregates(tree)
    reused_ctes = _reads_a_cte_twice(tree)
    extractions: list[Extraction] = []
    not_pushed: list[str] = []
    scopes = traverse_scope(tree)
    correlated = _correlated_subqueries(tree, scopes, {id(t): i.unique_id for t, i in occurrences})
    for index, (table, plan_input) in enumerate(occurrences):
        scope = _scope_of(table, scopes)
        alias = table.alias_or_name
        real = _real_names(schemas.get(plan_input.key, ()))
        columns = tuple(real(c) for c in _used_columns(alias, scope))
        reading = (readings or {}).get(plan_input.target, Reading())
        pushed, kept, complete = _pushable_conjuncts(alias, scope, reading)
        pushed = [_with_real_names(p, real) for p in pushed]
        not_pushed.extend(kept)
        engine_name = f"dvt_in_{index}"
        limit = _pushable_limit(scope) if complete else None
        extractions.append(Extraction(engine_name, plan_input, columns, tuple(pushed), limit))
        # Renamed in place: a table node may carry a parenthesised join of its own.
        table.set("this", exp.to_identifier(engine_name))
        table.set("db", None)
        table.set("catalog", None)
        table.set("alias", exp.TableAlias(this=exp.to_identifier(alias)))
    per_value_scales = numeric.scales_vary(tree)
    # Exact numerics are spelled only where the engine may run the query (their macros cost).
    spelling = engine_spelling(tree, dialect, numerics=bytewise_refusal is None)
    return FederationPlan(
        tuple(extractions),
        tree,
        engine_dialect,
        not_pushed=tuple(not_pushed),
        engine_refusal=refusal,
        bytewise_refusal=bytewise_refusal,
        aggregates=aggregates,
        reused_ctes=reused_ctes,
        correlated=correlated,
        per_value_scales=per_value_scales,
        exact_numerics=spelling.may_fail,
        engine_macros=spelling.macros,
        text_numerics=spelling.text_columns,
        folded=tuple(folded),
    )


#: The mark of a column the model's SQL writes (not one a `*` stands for).
_WRITTEN = "dvt_written"
_PROJECTION = "dvt_projection"
#: The mark of a select the model orders or groups by position: its target reads `order by 2`
#: among the import's columns, so the import keeps every one.
_BY_POSITION = "dvt_by_position"


def _prune_star_columns(tree: exp.Expr) -> None:
    """Drop the columns a `*` of a CTE or derived table stands for that nothing above it uses
    (dbt's `with orders as (select * from {{ ref('orders') }})`), so that each input is read
    with only the columns the model needs. SQLGlot's `pushdown_projections`, run on a copy,
    tells which projections every output needs, rows included. Only a star's own columns go:
    a column the model writes stays (its target runs the SQL as written, and must find it in
    the import), and so does every column of a set operation's branch, a DISTINCT or grouped
    select, a select ordered by position, and a select that would keep none."""
    from sqlglot.optimizer.pushdown_projections import pushdown_projections

    prunable = [
        select
        for select in tree.find_all(exp.Select)
        if (
            isinstance(select.parent, exp.CTE)
            or (
                isinstance(select.parent, exp.Subquery)
                and isinstance(select.parent.parent, (exp.From, exp.Join))
            )
        )
        and not any(select.args.get(k) for k in ("distinct", "group", "having", "qualify"))
        and not select.meta.get(_BY_POSITION, True)
        and any(_from_star(p) for p in select.expressions)
    ]
    if not prunable:
        return
    for number, projection in enumerate(p for select in prunable for p in select.expressions):
        projection.meta[_PROJECTION] = number
    try:
        kept = {
            p.meta.get(_PROJECTION)
            for select in pushdown_projections(tree.copy()).find_all(exp.Select)
            for p in select.expressions
        }
    except Exception:  # an optimisation only: without it, every column is read
        return
    for select in prunable:
        keep = [p for p in select.expressions if not _from_star(p) or p.meta[_PROJECTION] in kept]
        if keep and len(keep) < len(select.expressions):
            select.set("expressions", keep)


def _from_star(projection: exp.Expr) -> bool:
    """A projection qualify wrote for a `*`: one column (aliased), which the model never wrote."""
    column = projection.this if isinstance(projection, exp.Alias) else projection
    return isinstance(column, exp.Column) and not column.meta.get(_WRITTEN)


def _ordered_by_position(select: exp.Select) -> bool:
    """`ORDER BY 2` or `GROUP BY 1`: a column named by its place in the select list."""
    clauses = [select.args.get("order"), select.args.get("group")]
    return any(
        isinstance(item.this if isinstance(item, exp.Ordered) else item, exp.Literal)
        for clause in clauses
        if clause is not None
        for item in clause.expressions
    )


def _exists_reads_no_columns(tree: exp.Expr) -> None:
    """`EXISTS (SELECT * ...)` asks for a row, not its columns: written `SELECT 1`, so that no
    column is read for the star (a subquery that groups, aggregates or is DISTINCT is kept)."""
    for exists in tree.find_all(exp.Exists):
        query = exists.this
        if not isinstance(query, exp.Select) or any(
            query.args.get(k) for k in ("group", "having", "distinct", "qualify")
        ):
            continue
        if all(p.is_star for p in query.expressions):
            query.set("expressions", [exp.Literal.number(1)])


#: Integer constants folded exactly in any database (PostgreSQL's int4 range).
_INT4 = range(-(2**31), 2**31)
_FOLDABLE = {exp.Add: lambda a, b: a + b, exp.Sub: lambda a, b: a - b, exp.Mul: lambda a, b: a * b}


def _fold_integer_constants(tree: exp.Expr) -> None:
    """`1200 + 11` as `1211` (TPC-DS writes its ranges so): a filter on constants can then be
    pushed into its input's read. Only integers that stay in PostgreSQL's int4 range."""
    for node in list(tree.find_all(*_FOLDABLE)):
        left, right = node.this, node.expression
        if not (isinstance(left, exp.Literal) and isinstance(right, exp.Literal)):
            continue
        if not (left.is_int and right.is_int):
            continue
        a, b = int(left.this), int(right.this)
        value = _FOLDABLE[type(node)](a, b)
        if a in _INT4 and b in _INT4 and value in _INT4:
            folded = exp.Literal.number(abs(value))
            node.replace(exp.Neg(this=folded) if value < 0 else folded)


def schema_mapping(schemas: Schemas, dialect: str) -> MappingSchema:
    """The inputs' columns as SQLGlot's nested schema: catalog -> schema -> table -> column
    (built once per plan: qualifying and typing both read it)."""
    mapping: dict[str, object] = {}
    for key, typed_columns in schemas.items():
        catalog = mapping.setdefault(_quoted(key.catalog, dialect), {})
        tables = catalog.setdefault(_quoted(key.schema, dialect), {})  # type: ignore[attr-defined]
        tables[_quoted(key.name, dialect)] = {_quoted(c, dialect): t for c, t in typed_columns}
    return _InputSchema(mapping, dialect=dialect)


#: Names as `MappingSchema` normalizes them, for every plan of the process.
_NORMALIZED: dict[tuple[str, object, bool, bool], str] = {}


class _InputSchema(MappingSchema):
    """SQLGlot's schema, normalizing each name once per process, not once per plan: it parses
    every name it is given, and each node's plan gives it every column of its inputs (a fifth
    of planning a TPC-DS query)."""

    def _normalize_name(
        self,
        name: str | exp.Identifier,
        dialect: DialectType = None,
        is_table: bool = False,
        normalize: bool | None = None,
    ) -> str:
        if not isinstance(name, str):
            return super()._normalize_name(name, dialect, is_table, normalize)
        key = (
            name,
            dialect or self.dialect,
            is_table,
            self.normalize if normalize is None else normalize,
        )
        found = _NORMALIZED.get(key)
        if found is None:
            found = _NORMALIZED[key] = super()._normalize_name(name, dialect, is_table, normalize)
        return found


def _reads_a_cte_twice(tree: exp.Expr) -> bool:
    """Whether some CTE of the query is read more than once (before inputs are renamed: a
    table without a schema is a CTE's name)."""
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    reads = Counter(t.name for t in tree.find_all(exp.Table) if not t.db and t.name in ctes)
    return any(count > 1 for count in reads.values())


def _correlated_subqueries(
    tree: exp.Expr, scopes: list[Scope], inputs: Mapping[int, str]
) -> tuple[CorrelatedSubquery, ...]:
    """The correlated scalar subqueries of the query (PostgreSQL runs each once per outer row;
    it joins a correlated EXISTS or IN, hashed where it cannot), with what each side reads.
    `inputs` maps the id of each input table node to its unique_id."""
    ctes = {cte.alias_or_name: cte.this for cte in tree.find_all(exp.CTE)}

    def reads(node: exp.Expr, seen: frozenset[str] = frozenset()) -> set[str]:
        found = set()
        for table in node.find_all(exp.Table):
            if id(table) in inputs:
                found.add(inputs[id(table)])
            elif not table.db and table.name in ctes and table.name not in seen:
                found |= reads(ctes[table.name], seen | {table.name})
        return found

    def source(found: exp.Table | Scope) -> Source:
        if isinstance(found, Scope):
            query = found.expression
            return Source(tuple(sorted(reads(query))), _aggregates(query))
        return Source(tuple(sorted(reads(found))))

    correlated = []
    for scope in scopes:
        if not scope.is_correlated_subquery or isinstance(scope.expression.parent, _SET_CONTEXTS):
            continue
        names = {column.table for column in scope.external_columns}
        outer = [source(found) for name in names if (found := _outer_source(scope, name))]
        inner = [source(found) for found in scope.sources.values()]
        correlated.append(CorrelatedSubquery(tuple(outer), tuple(inner)))
    return tuple(correlated)


def _outer_source(scope: Scope, name: str) -> exp.Table | Scope | None:
    """The table or query that an outer column's qualifier `name` names, nearest scope first."""
    outer = scope.parent
    while outer is not None:
        if name in outer.sources:
            return outer.sources[name]  # type: ignore[no-any-return]
        outer = outer.parent
    return None


def _aggregates(tree: exp.Expr) -> bool:
    """Whether the outermost query groups or aggregates."""
    if not isinstance(tree, exp.Select):
        return False
    if tree.args.get("group"):
        return True
    return any(p.find(exp.AggFunc) and not p.find(exp.Window) for p in tree.expressions)


def engine_spelling(tree: exp.Expr, written_in: str, *, numerics: bool = True) -> numeric.Spelling:
    """Spell PostgreSQL's meaning of `/` and of casts to double precision for the engine
    (DuckDB), in place, once the same-semantics list accepted the tree:

    - integer `/` truncates: the engine's integer division, exact beyond 2^53 (a truncated float
      division is not);
    - numeric to double precision goes through its text, as PostgreSQL casts it (the nearest
      double to the decimal value; DuckDB's own cast may round twice);
    - a float8 division raises PostgreSQL's errors: x / 0 (but NaN / 0), and a result that
      overflows to infinity or underflows to zero, where DuckDB gives infinities or zero;
    - a numeric division and avg() give PostgreSQL's rounded quotient (`numeric`).

    Returns what spelling the numerics did (`numeric.spell_exact_numerics`)."""
    integers = exp.DataType.INTEGER_TYPES
    for shift in reversed(list(tree.find_all(exp.Add, exp.Sub))):  # inner first: the cast copies
        # date + integer is PostgreSQL's date + int4 (no other width has the operator); DuckDB
        # has DATE + INTEGER only, and types some int4 results (length()) BIGINT.
        operands = (shift.this, shift.expression)
        if exp.DType.DATE in {kind_of(o) for o in operands}:
            for operand in operands:
                if kind_of(operand) in integers and not isinstance(operand, exp.Literal):
                    operand.replace(exp.cast(operand.copy(), exp.DType.INT))
    for div in list(tree.find_all(exp.Div)):
        if kind_of(div.this) in integers and kind_of(div.expression) in integers:
            div.replace(exp.IntDiv(this=div.this, expression=div.expression))
    if written_in != "postgres":
        return numeric.Spelling()
    for cast in list(tree.find_all(exp.Cast)):
        if kind_of(cast) == exp.DType.DOUBLE and kind_of(cast.this) == exp.DType.DECIMAL:
            cast.set("this", exp.cast(cast.this, exp.DType.VARCHAR))
    for div in list(tree.find_all(exp.Div)):
        if float_division(div):
            div.replace(_checked_float_division(_as_double(div.this), _as_double(div.expression)))
    return numeric.spell_exact_numerics(tree) if numerics else numeric.Spelling()


def _as_double(node: exp.Expr) -> exp.Expr:
    kind = kind_of(node)
    if kind == exp.DType.DOUBLE:
        return node
    if kind == exp.DType.DECIMAL:  # as PostgreSQL casts numeric: through its text
        node = exp.cast(node, exp.DType.VARCHAR)
    return exp.cast(node, exp.DType.DOUBLE)


#: PostgreSQL's float8div (float.h `float8_div`), in DuckDB: the same quotient, the same errors.
_FLOAT_DIVISION = sqlglot.parse_one(
    "CASE WHEN dvt_b = 0 AND NOT ISNAN(dvt_a) THEN ERROR('division by zero') "
    "WHEN ISINF(dvt_a / dvt_b) AND NOT ISINF(dvt_a) THEN ERROR('value out of range: overflow') "
    "WHEN dvt_a / dvt_b = 0 AND dvt_a <> 0 AND NOT ISINF(dvt_b) "
    "THEN ERROR('value out of range: underflow') ELSE dvt_a / dvt_b END",
    read="duckdb",
)


def _checked_float_division(dividend: exp.Expr, divisor: exp.Expr) -> exp.Expr:
    operands = {"dvt_a": dividend, "dvt_b": divisor}
    return exp.paren(
        _FLOAT_DIVISION.transform(
            lambda n: (
                operands[n.name].copy() if isinstance(n, exp.Column) and n.name in operands else n
            )
        )
    )


def parse_model_sql(sql: str, dialect: str, model: str) -> exp.Expr:
    """A node's compiled SQL as a SQLGlot tree; DVT104 naming the node when it cannot be read."""
    try:
        return sqlglot.parse_one(sql, read=dialect)
    except ParseError as exc:
        raise UnsupportedFederationError(
            f"Model {model!r}: SQLGlot cannot parse its SQL: {exc}"
        ) from exc


def _input_tables(
    tree: exp.Expr, by_key: Mapping[RelationKey, PlanInput], model: str
) -> list[tuple[exp.Table, PlanInput]]:
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    found = []
    for table in tree.find_all(exp.Table):
        if not table.db and table.name.lower() in ctes:
            continue
        if isinstance(table.this, exp.Func):
            raise UnsupportedFederationError(
                f"Model {model!r}: table function {table.this.sql()} cannot be federated."
            )
        key = RelationKey.of(table)
        plan_input = by_key.get(key)
        if plan_input is None:
            raise UnsupportedFederationError(
                f"Model {model!r} reads {key}, which is neither a ref() nor a source(): "
                "DVT cannot tell which target it lives on. Use ref() or source()."
            )
        found.append((table, plan_input))
    return found


def _scope_of(table: exp.Table, scopes: list[Scope]) -> Scope:
    for scope in scopes:
        if any(source is table for source in scope.sources.values()):
            return scope
    raise UnsupportedFederationError(f"Relation {table.sql()} is used outside any SELECT")


_CASE_INSENSITIVE = NormalizationStrategy.CASE_INSENSITIVE


def _keep_output_spelling(tree: exp.Expr, spellings: list[str]) -> None:
    """Case-insensitive dialects (DuckDB) name a result column as the model wrote it (or as the
    table stores it, for `*`); qualifying folded the names to lower case: spell them back."""
    if not isinstance(tree, exp.Query):
        return
    spelled: dict[str, str] = {}
    for name in spellings:
        spelled.setdefault(name.lower(), name)
    for projection in tree.selects:
        name = projection.alias_or_name
        wanted = spelled.get(name.lower(), name)
        if wanted == name:
            continue
        alias = exp.to_identifier(wanted, quoted=True)
        if isinstance(projection, exp.Alias):
            projection.set("alias", alias)
        else:
            projection.replace(exp.alias_(projection.copy(), alias))


@functools.lru_cache(maxsize=65536)
def _quoted(name: str, dialect: str) -> str:
    """A name as `dialect` quotes it (asked for every column of every input of every node)."""
    return exp.to_identifier(name, quoted=True).sql(dialect=dialect)


def _real_names(typed_columns: Iterable[tuple[str, str]]) -> Callable[[str], str]:
    """Maps a column name as the planner normalized it back to the source's own spelling:
    PostgreSQL asks for "Order ID", not "order id"."""
    spelled = {name.lower(): name for name, _ in typed_columns}
    return lambda name: spelled.get(name.lower(), name)


def _with_real_names(predicate: exp.Expr, real: Callable[[str], str]) -> exp.Expr:
    for column in predicate.find_all(exp.Column):
        if real(column.name) != column.name:
            column.set("this", exp.to_identifier(real(column.name), quoted=True))
    return predicate


def _used_columns(alias: str, scope: Scope) -> tuple[str, ...]:
    names: dict[str, None] = {}
    for column in scope.columns:
        if column.table == alias:
            names.setdefault(column.name)
    return tuple(names)


def _outer_side(join: exp.Join) -> str | None:
    """'right', 'left' or 'both': which side of `join` may be NULL-extended (None: inner)."""
    side = (join.side or "").upper()
    if not side and join.kind and join.kind.upper() == "FULL":
        side = "FULL"
    return _OUTER_SIDES.get(side)


def _null_supplying(alias: str, select: exp.Expr) -> bool:
    """Is `alias` on a side of an outer join that may be filled with NULLs?"""
    joins = select.args.get("joins") or []
    for part in [select.args.get("from_"), *joins]:
        if part is not None and any(_outer_side(join) for join in _grouped_joins(part.this)):
            return True  # a parenthesised outer join: keep this scope's filters in the engine
    for join in joins:
        outer = _outer_side(join)
        if outer is None:
            continue
        joined = _bound_names(join.this)
        if outer in ("right", "both") and alias in joined:
            return True
        if outer in ("left", "both") and alias not in joined:
            return True  # every relation before a RIGHT or FULL join can be NULL-extended
    return False


def _in_group(relation: exp.Expr) -> Iterator[exp.Expr]:
    """`relation` and, for a parenthesised join group `(a join b)`, every part of it; not the
    inside of a derived table's query, which is a scope of its own."""
    return relation.walk(prune=lambda n: isinstance(n, (exp.Select, exp.SetOperation)))


def _grouped_joins(relation: exp.Expr) -> Iterator[exp.Join]:
    """The joins of a parenthesised join group `(a left join b)`: a derived table's own
    outer join NULL-extends nothing of the query that reads it."""
    return (node for node in _in_group(relation) if isinstance(node, exp.Join))


def _bound_names(relation: exp.Expr) -> set[str]:
    """The names a FROM or JOIN item binds: its alias, and every relation's of a parenthesised
    join group, which a join NULL-extends together."""
    return {
        node.alias_or_name
        for node in _in_group(relation)
        if isinstance(node, (exp.Table, exp.Subquery, exp.Lateral, exp.Unnest, exp.Values))
        and node.alias_or_name
    }


def _pushable_conjuncts(
    alias: str, scope: Scope, reading: Reading
) -> tuple[list[exp.Expr], list[str], bool]:
    """(conjuncts pushed into `alias`'s read, conjuncts on it kept in the query, whether every
    conjunct of the scope's WHERE was pushed)."""
    select = scope.expression
    where = select.args.get("where") if isinstance(select, exp.Select) else None
    if where is None:
        return [], [], True
    pushed: list[exp.Expr] = []
    kept: list[str] = []
    complete = True
    null_side = _null_supplying(alias, select)
    for conjunct in where.this.flatten() if isinstance(where.this, exp.And) else [where.this]:
        tables = {c.table for c in conjunct.find_all(exp.Column)}
        if tables != {alias}:
            complete = False
            continue
        if (
            null_side
            or conjunct.find(exp.Subquery, exp.Select, exp.AggFunc, exp.Window)
            or not portable_predicate(conjunct, reading)
        ):
            kept.append(conjunct.sql())
            complete = False
            continue
        unqualified = conjunct.copy()
        for column in unqualified.find_all(exp.Column):
            column.set("table", None)
        pushed.append(unqualified)  # type: ignore[arg-type]
    return pushed, kept, complete


def _pushable_limit(scope: Scope) -> int | None:
    """The scope's LIMIT, if it reads one relation and nothing between changes rows: a
    correlated or LATERAL subquery's LIMIT applies per outer row, never to the input."""
    select = scope.expression
    if not isinstance(select, exp.Select) or len(scope.sources) != 1 or select.args.get("joins"):
        return None
    if scope.external_columns or scope.is_correlated_subquery or select.find_ancestor(exp.Lateral):
        return None
    limit = select.args.get("limit")
    if limit is None or select.args.get("offset"):
        return None
    if any(select.args.get(k) for k in ("group", "having", "order", "distinct", "qualify")):
        return None
    if select.find(exp.AggFunc, exp.Window):
        return None
    count = limit.expression
    return int(count.this) if isinstance(count, exp.Literal) and count.is_int else None


def _fold_scalar_subqueries(
    tree: exp.Expr,
    occurrences: list[tuple[exp.Table, PlanInput]],
    evaluate: ScalarEvaluator,
) -> list[tuple[PlanInput, tuple[str, ...]]]:
    """Replace uncorrelated one-input scalar subqueries in WHERE clauses by their value. A set
    (`IN`, `ANY`, `EXISTS`) is never one value, and a subquery that returns several rows is
    left for the database to reject, as it would on the target. Returns each folded
    subquery's input and the columns it read: the target placement, which runs the SQL as
    written, still needs them."""
    inputs_by_table = {id(table): plan_input for table, plan_input in occurrences}
    folded = []
    for where in list(tree.find_all(exp.Where)):
        for subquery in list(where.find_all(exp.Subquery)):
            if isinstance(subquery.parent, _SET_CONTEXTS):
                continue
            select = subquery.this
            if not isinstance(select, exp.Select) or len(select.expressions) != 1:
                continue
            tables = list(select.find_all(exp.Table))
            if len(tables) != 1 or id(tables[0]) not in inputs_by_table:
                continue
            inner = traverse_scope(select)
            if any(scope.external_columns for scope in inner):
                continue
            plan_input = inputs_by_table[id(tables[0])]
            single, value = evaluate(plan_input, select)
            if single:
                alias = tables[0].alias_or_name
                folded.append((plan_input, _used_columns(alias, inner[-1])))
                subquery.replace(_literal(value))
    return folded


def _literal(value: object) -> exp.Expr:
    import datetime as dt
    import decimal

    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, (int, float, decimal.Decimal)):
        return exp.Literal.number(str(value))
    if isinstance(value, dt.datetime):
        kind = "TIMESTAMPTZ" if value.tzinfo else "TIMESTAMP"
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), kind)
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), "DATE")
    return exp.Literal.string(str(value))
