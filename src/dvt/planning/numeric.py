"""PostgreSQL's numeric division and avg(), computed exactly in DuckDB.

PostgreSQL keeps a display scale with each numeric value. Most expressions over typed columns
give every value the same one, equal to the scale of the DECIMAL that holds them in DuckDB: a
numeric(7,2) column, its sum, a product of two (`fixed_scale`). A division does not. numeric.c
`select_div_scale` picks the quotient's scale per value, from its operands' first base-10000
digits, and rounds the quotient there, half away from zero; avg() is the sum divided by the
count, the same way.

The engine computes that rounded quotient exactly, in HUGEINT arithmetic (`quotient`, a
DuckDB macro). Where the quotient is a column of the result, the engine writes its text, every
digit of its scale, and the target reads it back as it would have written it. Elsewhere it is
a DECIMAL(38, 20): exactly, or the query fails with a mark (`INEXACT`) that sends the node
back to its target. That DECIMAL has the value but not PostgreSQL's scale, so the list lets
such a quotient reach only what reads its value alone (`quotient_refusal`): a comparison,
ORDER BY, round() to a constant scale, a scalar subquery compared so. `spell_exact_numerics`
casts every exact operand there to one DECIMAL type: DuckDB's own common type of two DECIMALs
can round one of them.

A sum of quotients has the largest of their scales, which depends on the data; so does a
quotient of such sums. Where each value's scale can be computed (`carried_scale`: a quotient
of fixed scales, a sum of such, arithmetic over them), it is, and a subquery's or CTE's column
computed so carries its scale in a hidden column (`SCALE_SUFFIX`) for the quotients that read
it (TPC-DS q04: `sum(x / 2)` per customer and year, compared as ratios of two years).
"""

from __future__ import annotations

import decimal
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

import sqlglot
import sqlglot.expressions as exp

Type = exp.DType

#: The scale of the DECIMAL(38, s) that holds a quotient in the engine.
QUOTIENT_SCALE = 20
#: The message of a quotient that DECIMAL(38, QUOTIENT_SCALE) cannot hold exactly.
INEXACT = "dvt: a numeric quotient needs more digits than DECIMAL(38, 20) holds"
_MAX_SCALE = 38
_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Between)
#: Expressions whose value is the quotient's, changed exactly (their scale follows it).
_CARRYING = (exp.Paren, exp.Neg, exp.Abs, exp.Add, exp.Sub, exp.Mul)
#: The suffix of the hidden column that carries a subquery's or CTE's per-value scale.
SCALE_SUFFIX = "__dvt_scale"
#: Contexts where a subquery stands for a set of rows, not one value.
_SET_CONTEXTS = (exp.In, exp.Any, exp.All, exp.Exists, exp.From, exp.Join, exp.Lateral)


def _exact(node: exp.Expr | None) -> bool:
    kind = getattr(node, "type", None)
    return isinstance(kind, exp.DataType) and kind.this in exp.DataType.INTEGER_TYPES | {
        Type.DECIMAL
    }


def is_numeric_division(node: exp.Expr) -> bool:
    """`/` of two exact numbers, not both integers (PostgreSQL's numeric_div)."""
    operands = (node.this, node.args.get("expression"))
    integers = exp.DataType.INTEGER_TYPES
    return (
        isinstance(node, exp.Div)
        and all(_exact(o) for o in operands)
        and not all(o.type.this in integers for o in operands)  # type: ignore[union-attr]
    )


def is_quotient(node: exp.Expr) -> bool:
    """A numeric division, or avg() of an exact number: a value with a scale of its own."""
    return is_numeric_division(node) or (isinstance(node, exp.Avg) and _exact(node.this))


# -- scales -------------------------------------------------------------------------------


def fixed_scale(node: exp.Expr) -> int | None:
    """The display scale PostgreSQL gives every value of the exact expression `node`, where it
    is one and the same as the scale of DuckDB's DECIMAL (0 for integers); None where values
    may differ (a quotient, branches of different scales) or the expression is not known."""
    carried = (exp.Paren, exp.Neg, exp.Abs, exp.Alias, exp.Sum, exp.Min, exp.Max, exp.Window)
    if isinstance(node, carried):
        return fixed_scale(node.this)
    if isinstance(node, exp.Subquery):
        value = _value_of(node)
        return fixed_scale(value) if value is not node else None
    if isinstance(node, exp.Count):
        return 0
    if isinstance(node, exp.Literal):
        if not node.is_number or "e" in node.this.lower():
            return None
        return len(node.this.partition(".")[2])
    if isinstance(node, exp.Cast):
        to = node.to
        if to.this in exp.DataType.INTEGER_TYPES:
            return 0
        if to.this == Type.DECIMAL and len(to.expressions) == 2:
            precision, scale = (int(p.name) for p in to.expressions)
            return scale if precision <= _MAX_SCALE else None
        return None
    if isinstance(node, exp.Round):
        digits = _round_digits(node)
        return digits if digits is not None and node.this.type.this == Type.DECIMAL else None
    if isinstance(node, (exp.Add, exp.Sub, exp.Mul)):
        return _arithmetic_scale(node, fixed_scale)
    if isinstance(node, (exp.Case, exp.Coalesce)):
        return _one_scale(_branches(node))
    if isinstance(node, exp.Column):
        return _column_scale(node)
    return None


def engine_scale(node: exp.Expr) -> int | None:
    """The scale of the DECIMAL that holds `node` in the engine once spelled
    (`engine_spelling`): its fixed scale, a quotient's QUOTIENT_SCALE, and what follows from
    those; None where it is not known or exceeds 38."""
    fixed = fixed_scale(node)
    if fixed is not None:
        return fixed
    if is_quotient(node):
        return QUOTIENT_SCALE
    if isinstance(node, (exp.Paren, exp.Neg, exp.Abs, exp.Alias, exp.Sum, exp.Min, exp.Max)):
        return engine_scale(node.this)
    if isinstance(node, exp.Column):
        scales = [engine_scale(p) for p in _projections(node) or ()]
        known = [s for s in scales if s is not None]
        return max(known) if known and len(known) == len(scales) else None
    if isinstance(node, exp.Subquery):
        value = _value_of(node)
        return engine_scale(value) if value is not node else None
    if isinstance(node, (exp.Add, exp.Sub, exp.Mul)):
        return _arithmetic_scale(node, engine_scale)
    if isinstance(node, exp.Case):
        scales = [engine_scale(b) for b in _branches(node) if not isinstance(b, exp.Null)]
        known = [s for s in scales if s is not None]
        return max(known) if known and len(known) == len(scales) else None
    return None


def _arithmetic_scale(node: exp.Expr, scale_of: Callable[[exp.Expr], int | None]) -> int | None:
    """PostgreSQL's (and DuckDB's) scale of a sum, difference or product: the larger of the
    operands' scales, or for a product their sum; None past 38."""
    left, right = scale_of(node.this), scale_of(node.expression)
    if left is None or right is None:
        return None
    scale = left + right if isinstance(node, exp.Mul) else max(left, right)
    return scale if scale <= _MAX_SCALE else None


def _round_digits(node: exp.Round) -> int | None:
    """round(x) or round(x, k) with a constant 0 <= k <= 38: the result's scale."""
    digits = node.args.get("decimals")
    if digits is None:
        return 0
    if isinstance(digits, exp.Literal) and digits.is_int and 0 <= int(digits.this) <= _MAX_SCALE:
        return int(digits.this)
    return None


def _branches(node: exp.Expr) -> list[exp.Expr]:
    if isinstance(node, exp.Case):
        values = [i.args["true"] for i in node.args.get("ifs", [])]
        default = node.args.get("default")
        return [*values, default] if default is not None else values
    return [node.this, *node.expressions]


def _one_scale(values: list[exp.Expr]) -> int | None:
    scales = {fixed_scale(v) for v in values if not isinstance(v, exp.Null)}
    return scales.pop() if len(scales) == 1 else None


def _column_scale(column: exp.Column) -> int | None:
    """A table's column: its declared scale (its values are coerced to it). A column of a
    subquery or CTE: its defining expression's, in every branch of a set operation."""
    projections = _projections(column)
    if projections is None:
        kind = column.type
        if kind is None:
            return None
        if kind.this in exp.DataType.INTEGER_TYPES:
            return 0
        if kind.this == Type.DECIMAL and len(kind.expressions) == 2:
            return int(kind.expressions[1].name)
        return None
    return _one_scale(projections) if projections else None


def _projections(column: exp.Column) -> list[exp.Expr] | None:
    """The expressions that define a subquery's or CTE's column, one per branch of a set
    operation (empty where they are not known); None for a table's column."""
    query = _source_query(column)
    if query is None:
        return None
    selects = _branch_selects(query)
    names = [p.alias_or_name for p in selects[0].selects] if selects else []
    if column.name not in names:
        return []
    position = names.index(column.name)
    if any(len(s.selects) <= position for s in selects):
        return []
    return [s.selects[position].unalias() for s in selects]


def _branch_selects(query: exp.Expr) -> list[exp.Select]:
    if isinstance(query, exp.Subquery):
        return _branch_selects(query.this)
    if isinstance(query, exp.Select):
        return [query]
    if isinstance(query, exp.SetOperation):
        return [*_branch_selects(query.this), *_branch_selects(query.expression)]
    return []


def derived_column(node: exp.Expr) -> bool:
    """Whether the column is a subquery's or CTE's (computed by the query), not a table's."""
    return isinstance(node, exp.Column) and _source_query(node) is not None


def _source_query(column: exp.Column) -> exp.Expr | None:
    """The subquery or CTE body a qualified column reads, None for a table's column."""
    name = column.table
    select = column.find_ancestor(exp.Select)
    while select is not None:
        sources = [select.args.get("from_"), *(select.args.get("joins") or [])]
        for source in sources:
            found = source.this if isinstance(source, (exp.From, exp.Join)) else None
            if found is None or found.alias_or_name != name:
                continue
            if isinstance(found, exp.Subquery):
                return found.this
            if isinstance(found, exp.Table) and not found.db:
                return _cte(found, found.name)
            return None
        select = select.find_ancestor(exp.Select)
    return None


def _cte(node: exp.Expr, name: str) -> exp.Expr | None:
    """The body of the CTE `name` that `node` sees, from the nearest WITH outwards."""
    scope: exp.Expr | None = node
    while scope is not None:
        with_ = scope.args.get("with_") if isinstance(scope, exp.Query) else None
        if isinstance(with_, exp.With):
            for cte in with_.expressions:
                if cte.alias_or_name == name:
                    return cte.this
        scope = scope.parent
    return None


def scales_vary(tree: exp.Expr) -> bool:
    """Whether a numeric column of the query's result may hold values of different scales
    (no one `fixed_scale` is proven for it, in every branch of a set operation)."""
    selects = _branch_selects(tree)
    if not selects:
        return True
    for position in range(len(selects[0].selects)):
        values = [s.selects[position].unalias() for s in selects if len(s.selects) > position]
        if len(values) != len(selects):
            return True
        if not any(v.is_type(Type.DECIMAL) or _untyped(v) for v in values):
            continue  # integers have no scale (a set of integers and numerics is numeric)
        if len(values) == 1 and is_quotient(values[0].unnest()):
            continue  # written as its text, scale and all (`output_quotient`)
        if _one_scale(values) is None:
            return True
    return False


def _untyped(node: exp.Expr) -> bool:
    kind = getattr(node, "type", None)
    return not isinstance(kind, exp.DataType) or kind.this == Type.UNKNOWN


# -- scales carried with the values ------------------------------------------------------


def carried_scale(node: exp.Expr, *, add: bool = False) -> exp.Expr | None:
    """An engine expression for PostgreSQL's display scale of each value of the exact
    expression `node`, where values may differ but the scale of each is known: a fixed scale;
    a quotient of two fixed scales (`select_div_scale`, without the division); a sum of such
    values (the largest of their scales: numeric addition keeps the larger); arithmetic over
    them; a subquery's or CTE's column defined so, whose scale rides in a hidden column of
    its query (`add`: the column is added; without, only checked). None where not known."""
    fixed = fixed_scale(node)
    if fixed is not None:
        return exp.Literal.number(fixed)
    if isinstance(node, (exp.Paren, exp.Neg, exp.Abs, exp.Alias)):
        return carried_scale(node.this, add=add)
    if isinstance(node, exp.Sum):
        if isinstance(node.parent, exp.Window) or isinstance(node.this, exp.Distinct):
            return None
        inner = carried_scale(node.this, add=add)
        return exp.Max(this=inner) if inner is not None else None
    if isinstance(node, (exp.Add, exp.Sub, exp.Mul)):
        left = carried_scale(node.this, add=add)
        right = carried_scale(node.expression, add=add)
        if left is None or right is None:
            return None
        if isinstance(node, exp.Mul):
            return exp.paren(exp.Add(this=left, expression=right))
        return exp.Greatest(this=left, expressions=[right])
    if is_numeric_division(node):
        return _division_scale(node, add)
    if isinstance(node, exp.Column):
        return _hidden_scale(node, add)
    return None


def _division_scale(node: exp.Expr, add: bool) -> exp.Expr | None:
    """The scale PostgreSQL gives each quotient of a numeric division of two fixed scales
    (without `add`, a stand-in that reads a column where the division does)."""
    scales = fixed_scale(node.this), fixed_scale(node.args["expression"])
    if scales[0] is None or scales[1] is None:
        return None
    if not add:
        return exp.column("dvt_scale") if node.find(exp.Column) else exp.Literal.number(0)
    return _scale_of_division(node.this, node.args["expression"], scales[0], scales[1])


def _scale_of_division(dividend: exp.Expr, divisor: exp.Expr, scale1: int, scale2: int) -> exp.Expr:
    """`_division_scale_template` over copies of the operands."""
    operands = {"dvt_a": dividend, "dvt_b": divisor}
    return _division_scale_template(scale1, scale2).transform(
        lambda n: operands[n.name].copy() if isinstance(n, exp.Column) and n.name in operands else n
    )


@functools.lru_cache(maxsize=64)
def _division_scale_template(scale1: int, scale2: int) -> exp.Expr:
    """`select_div_scale` over `dvt_a` and `dvt_b` of those scales, as an expression."""
    a, b = _unscaled("dvt_a", scale1), _unscaled("dvt_b", scale2)
    fixed = (str(scale1), str(scale2))
    rscale = _result_scale(
        f"CAST(ABS({a}) AS VARCHAR)", f"CAST(ABS({b}) AS VARCHAR)", "dvt_a", fixed, fixed
    )
    return sqlglot.parse_one(
        f"CASE WHEN dvt_a IS NULL OR dvt_b IS NULL THEN NULL ELSE {rscale} END", read="duckdb"
    )


def _hidden_scale(column: exp.Column, add: bool) -> exp.Expr | None:
    """The hidden column that carries the scale of a subquery's or CTE's column: the scale of
    its defining expression in every branch (a UNION ALL; never DISTINCT, which the column
    would change), added to each branch's select with `add`."""
    query = _source_query(column)
    projections = _projections(column)
    if query is None or not projections or not _all_rows(query) or _renamed(query):
        return None
    hidden = f"{column.name}{SCALE_SUFFIX}"
    reference = exp.column(hidden, table=column.table)
    selects = _branch_selects(query)
    if any(p.alias_or_name == hidden for p in selects[0].selects):
        return reference  # added for another reader
    if add and _hidden_scale(column, add=False) is None:
        return None
    scales: list[exp.Expr] = []
    for select, projection in zip(selects, projections, strict=True):
        scale = carried_scale(projection, add=add)
        if scale is None or select.args.get("distinct") or not _computable_in(scale, select):
            return None
        scales.append(scale)
    if add:
        for select, scale in zip(selects, scales, strict=True):
            select.select(exp.alias_(scale, hidden), copy=False)
    return reference


def _all_rows(query: exp.Expr) -> bool:
    """A select, or a UNION ALL of them: every row kept, so a column more changes none."""
    if isinstance(query, exp.Subquery):
        return _all_rows(query.this)
    if isinstance(query, exp.Union) and not query.args.get("distinct"):
        return _all_rows(query.this) and _all_rows(query.expression)
    return isinstance(query, exp.Select)


def _renamed(query: exp.Expr) -> bool:
    """Whether the subquery or CTE names its columns itself (`t(a, b)`)."""
    alias = query.parent.args.get("alias") if query.parent is not None else None
    return isinstance(alias, exp.TableAlias) and bool(alias.columns)


def _computable_in(scale: exp.Expr, select: exp.Select) -> bool:
    """Whether `select` can compute the scale: in a grouped select, only within aggregates."""
    grouped = select.args.get("group") is not None or any(
        p.find(exp.AggFunc) is not None for p in select.selects
    )
    return not grouped or all(
        c.find_ancestor(exp.AggFunc) is not None for c in scale.find_all(exp.Column)
    )


# -- where a quotient may go --------------------------------------------------------------


def quotient_refusal(node: exp.Expr) -> str | None:
    """None when the quotient `node` (a numeric division, or avg() of an exact number) may be
    computed in the engine: each operand's scale is fixed or carried (`carried_scale`), and
    the value reaches only what reads the value alone (`_reading_refusal`)."""
    if isinstance(node, exp.Avg):
        if isinstance(node.parent, exp.Window) or isinstance(node.this, exp.Distinct):
            return "avg() as a window function or of DISTINCT values"
        if fixed_scale(node.this) is None:
            return "avg() of a value whose scale differs from row to row"
    else:
        for operand in (node.this, node.expression):
            if fixed_scale(operand) is not None:
                continue
            scale = carried_scale(operand)
            if scale is None:
                return "a numeric division of a value whose scale differs from row to row"
            if not _computable_at(scale, node):
                return "a numeric division of a grouped value whose scale differs per row"
    if output_quotient(node):
        return None
    return _reading_refusal(node)


def _reading_refusal(node: exp.Expr) -> str | None:
    """None where the value of `node`, whose scale may differ per value, reaches only what
    reads its value alone: a comparison of exact numbers, ORDER BY, round() to a constant
    scale, a numeric division (which is given each value's scale), or a sum or a subquery's
    or CTE's column whose scale is carried (`carried_scale`) and itself read so."""
    path, reader = _path(node)
    if isinstance(reader, _COMPARISONS):
        if all(_exact(_value_of(o)) for o in reader.iter_expressions()):
            return None
        return "a numeric quotient compared with a value that is not an exact number"
    if isinstance(reader, exp.Ordered) or (
        isinstance(reader, exp.Round) and _round_digits(reader) is not None
    ):
        return None
    if is_numeric_division(reader):
        return None  # the division checks its operands' scales (`quotient_refusal`)
    if isinstance(reader, exp.Sum) and carried_scale(reader) is not None:
        return _reading_refusal(reader)
    outer = path[-1] if path else node
    projection = outer.parent if isinstance(outer.parent, exp.Alias) else outer
    readings = _readings_of_column(projection, reader)
    if readings is not None:
        for column in readings:
            refusal = _reading_refusal(column)
            if refusal:
                return refusal
        return None
    where = "a column" if isinstance(reader, (exp.Alias, exp.Select)) else reader.key
    return f"a numeric quotient as {where} (PostgreSQL keeps its scale per value)"


def _readings_of_column(node: exp.Expr, select: exp.Expr) -> list[exp.Column] | None:
    """Where `node` is a column of a derived table or CTE (a projection of `select`, in any
    branch of a UNION ALL) whose scale can be carried: every column that reads it. None
    otherwise."""
    if not isinstance(select, exp.Select):
        return None
    query: exp.Expr = select
    while isinstance(query.parent, exp.Union):
        query = query.parent
    owner = query.parent
    derived = isinstance(owner, exp.Subquery) and isinstance(owner.parent, (exp.From, exp.Join))
    if not (derived or isinstance(owner, exp.CTE)):
        return None
    position = next((i for i, p in enumerate(select.selects) if p is node), None)
    if position is None:
        return None
    readings = [
        c
        for c in select.root().find_all(exp.Column)
        if _source_query(c) is query and _position(c) == position
    ]
    if any(carried_scale(c) is None for c in readings):
        return None
    return readings


def _position(column: exp.Column) -> int | None:
    """The position of a subquery's or CTE's column among its query's columns."""
    query = _source_query(column)
    selects = _branch_selects(query) if query is not None else []
    names = [p.alias_or_name for p in selects[0].selects] if selects else []
    return names.index(column.name) if column.name in names else None


def _computable_at(scale: exp.Expr, node: exp.Expr) -> bool:
    """Whether the select that computes `node` can compute `scale` there: in a grouped select,
    a scale read from columns only inside an aggregate."""
    select = node.find_ancestor(exp.Select)
    if select is None or not any(True for _ in scale.find_all(exp.Column)):
        return True
    grouped = select.args.get("group") is not None or any(
        p.find(exp.AggFunc) is not None for p in select.selects
    )
    aggregate = node.find_ancestor(exp.AggFunc, exp.Select)
    return not grouped or isinstance(aggregate, exp.AggFunc)


def output_quotient(node: exp.Expr) -> bool:
    """Whether the quotient `node` is a column of the query's result as it is (in parentheses
    at most), which the engine writes as its text with PostgreSQL's scale: the target reads
    the digits back into an unconstrained numeric, each value with its own scale. Not where
    the result is DISTINCT or ordered by that column (text is not ordered as numbers)."""
    found = _result_column(node)
    if found is None:
        return False
    select, position = found
    if select.args.get("distinct"):
        return False
    name = select.selects[position].alias_or_name
    for ordered in (select.args.get("order") or exp.Order()).expressions:
        key = ordered.this
        if isinstance(key, exp.Column) and not key.table and key.name == name:
            return False
        if isinstance(key, exp.Literal) and key.is_int and int(key.this) == position + 1:
            return False
    return True


def _result_column(node: exp.Expr) -> tuple[exp.Select, int] | None:
    """The outermost select and the position of its column that `node` is, as it is (in
    parentheses at most); None where it is not a column of the query's result."""
    outer: exp.Expr = node
    while isinstance(outer.parent, exp.Paren):
        outer = outer.parent
    projection = outer.parent if isinstance(outer.parent, exp.Alias) else outer
    select = projection.parent
    if not isinstance(select, exp.Select) or select.parent is not None:
        return None
    position = next((i for i, p in enumerate(select.selects) if p is projection), None)
    return None if position is None else (select, position)


def _path(node: exp.Expr) -> tuple[list[exp.Expr], exp.Expr]:
    """The expressions the value of `node` goes through unchanged but for its scale
    (arithmetic, CASE branches, a scalar subquery's one column), and the one that reads it."""
    path: list[exp.Expr] = []
    child = node
    while True:
        parent = child.parent
        if parent is None:
            return path, child
        if isinstance(parent, exp.If) and child is parent.args.get("true"):
            parent = parent.parent  # the CASE
        elif isinstance(parent, exp.Case) and child is not parent.args.get("default"):
            return path, parent  # a simple CASE's operand
        elif isinstance(parent, exp.Alias):
            child, parent = parent, parent.parent
        subquery = _scalar_subquery(parent, child)
        if subquery is not None:
            child = subquery
        elif isinstance(parent, (*_CARRYING, exp.Case)):
            child = parent
        else:
            return path, parent if parent is not None else child
        path.append(child)


def _scalar_subquery(select: exp.Expr | None, column: exp.Expr) -> exp.Subquery | None:
    """The subquery whose one column `column` is, where it stands for one value."""
    if not isinstance(select, exp.Select) or not any(c is column for c in select.selects):
        return None
    subquery = select.parent
    if (
        isinstance(subquery, exp.Subquery)
        and len(select.selects) == 1
        and not isinstance(subquery.parent, _SET_CONTEXTS)
    ):
        return subquery
    return None


def _value_of(node: exp.Expr) -> exp.Expr:
    """A scalar subquery's one column, else `node`."""
    if isinstance(node, exp.Subquery) and isinstance(node.this, exp.Select):
        return node.this.selects[0].unalias()
    return node


# -- the engine's spelling ----------------------------------------------------------------


@dataclass(frozen=True)
class Spelling:
    """What spelling PostgreSQL's numerics for the engine did to a query."""

    #: The engine's query may fail where the target answers (INEXACT, an overflow of
    #: DECIMAL(38)): the node then goes back to its target.
    may_fail: bool = False
    #: The DuckDB macros the quotients call (`quotient`), to create before the query runs.
    macros: tuple[str, ...] = ()
    #: Result columns (by position) the engine writes as the text of PostgreSQL's numeric.
    text_columns: tuple[int, ...] = ()


def spell_exact_numerics(tree: exp.Expr) -> Spelling:
    """Spell, in place, each quotient the list accepted as PostgreSQL computes it, cast the
    exact values it meets (in a CASE, in a comparison) to one DECIMAL, and give round() its
    constant scale."""
    quotients = [n for n in tree.walk() if is_quotient(n)]
    rounds = [
        (n, digits)
        for n in tree.find_all(exp.Round)
        if (digits := _round_digits(n)) is not None and n.this.is_type(Type.DECIMAL)
    ]
    # Scales first, from the quotients as written: a carried one reads those inside it.
    scales = {id(q): operand_scales(q) for q in quotients}
    as_text = {id(q): output_quotient(q) for q in quotients}
    results = [_result_column(q) for q in quotients if as_text[id(q)]]
    text_columns = tuple(sorted(result[1] for result in results if result is not None))
    aligned = _align_set_operations(tree)
    if not quotients and not rounds:
        return Spelling(may_fail=aligned)
    groups: list[list[exp.Expr]] = []
    for quotient in quotients:
        path, reader = _path(quotient)
        groups.extend(_branches(n) for n in path if isinstance(n, exp.Case))
        if isinstance(reader, _COMPARISONS):
            groups.append(list(reader.iter_expressions()))
    casts: dict[int, tuple[exp.Expr, int]] = {}
    for group in groups:
        values = [v for v in group if not isinstance(v, exp.Null)]
        found = [engine_scale(_value_of(v)) for v in values]
        scale = max((s for s in found if s is not None), default=QUOTIENT_SCALE)
        for value in values:
            previous = casts.get(id(value), (value, 0))[1]
            casts[id(value)] = (value, max(scale, previous))
    for rounded, digits in rounds:
        _wrap_in_decimal(rounded, digits)
    for value, scale in casts.values():
        _wrap_in_decimal(value, scale)
    macros: set[str] = set()
    for quotient in reversed(quotients):  # the innermost first: an outer one reads its call
        operand_scale = scales[id(quotient)]
        assert operand_scale is not None, "accepted by quotient_refusal"
        call, macro = _quotient_sql(quotient, operand_scale, as_text=as_text[id(quotient)])
        quotient.replace(call)
        macros.add(macro)
    return Spelling(True, tuple(sorted(macros)), text_columns)


def _align_set_operations(tree: exp.Expr) -> bool:
    """Cast each numeric column of a set operation whose branches' DECIMALs differ in scale to
    DECIMAL(38, the largest): DuckDB's common type of DECIMAL(38, 2) and DECIMAL(10, 5) is
    DECIMAL(38, 2), which rounds the other branch. Returns whether it cast any (a value past
    DECIMAL(38) then fails the engine's query, and the node goes back to its target)."""
    aligned = False
    for operation in tree.find_all(exp.SetOperation):
        if isinstance(operation.parent, exp.SetOperation):
            continue  # its branches are the outer operation's
        selects = _branch_selects(operation)
        width = min((len(s.selects) for s in selects), default=0)
        for position in range(width):
            values = [s.selects[position].unalias() for s in selects]
            if not all(v.is_type(Type.DECIMAL) for v in values):
                continue
            found = [engine_scale(v) for v in values]
            scales = [s for s in found if s is not None]
            if len(scales) < len(found) or len(set(scales)) == 1:
                continue
            for select in selects:
                projection = select.selects[position]
                name = None if isinstance(projection, exp.Alias) else projection.alias_or_name
                _wrap_in_decimal(projection.unalias(), max(scales), name=name)
            aligned = True
    return aligned


def _wrap_in_decimal(node: exp.Expr, scale: int, *, name: str | None = None) -> None:
    """`node` becomes CAST(node AS DECIMAL(38, scale)), in place (the node itself is kept),
    named `name` where given (a projection keeps its column's name)."""
    cast = exp.Cast(this=exp.null(), to=exp.DataType.build(f"DECIMAL(38, {scale})"))
    node.replace(exp.alias_(cast, name) if name else cast)
    cast.set("this", node)


def _quotient_sql(
    node: exp.Expr, scales: tuple[Scale, Scale], *, as_text: bool
) -> tuple[exp.Expr, str]:
    if isinstance(node, exp.Avg):  # PostgreSQL's numeric_avg: the sum by the count
        value = node.this
        sum_, count = exp.Sum(this=value.copy()), exp.Count(this=value.copy())
        return quotient(sum_, scales[0], count, 0, as_text=as_text)
    call, macro = quotient(node.this, scales[0], node.expression, scales[1], as_text=as_text)
    exact = None if as_text else _exact_quotient(node, scales)
    if exact is None:
        return call, macro
    return exp.Case(ifs=[exp.If(this=exact[0], true=exact[1])], default=call), macro


def _exact_quotient(
    node: exp.Expr, scales: tuple[Scale, Scale]
) -> tuple[exp.Expr, exp.Expr] | None:
    """A division by a positive integer constant whose reciprocal has k decimals (2, 4, 5,
    8, 10...): where PostgreSQL's scale for the row is at least the dividend's plus k, the
    quotient is exact, the dividend times that reciprocal, and the macro (about 2 µs a row)
    is only called for the other rows. The condition, and the product as DECIMAL(38, 20)."""
    divisor, (scale1, scale2) = node.expression, scales
    if not (isinstance(scale1, int) and isinstance(divisor, exp.Literal) and divisor.is_int):
        return None
    value = int(divisor.this)
    if value <= 0 or not isinstance(scale2, int):
        return None
    reciprocal = decimal.Decimal(1) / decimal.Decimal(value)
    digits = -reciprocal.as_tuple().exponent  # type: ignore[operator]
    if reciprocal * value != 1 or scale1 + digits > QUOTIENT_SCALE:
        return None  # its reciprocal does not terminate (decimal's 28 digits are not exact)
    rscale = _scale_of_division(node.this, divisor, scale1, scale2)
    product = exp.Mul(
        this=node.this.copy(),
        expression=exp.cast(
            exp.Literal.number(format(reciprocal, "f")), f"DECIMAL({digits + 1}, {digits})"
        ),
    )
    condition = exp.GTE(this=rscale, expression=exp.Literal.number(scale1 + digits))
    return condition, exp.cast(product, f"DECIMAL(38, {QUOTIENT_SCALE})")


#: An operand's scale: fixed, or computed per value (`carried_scale`).
Scale = int | exp.Expr


def operand_scales(node: exp.Expr) -> tuple[Scale, Scale] | None:
    """The scales of a quotient's operands (for avg(), its value's and the count's), with
    the hidden columns of carried ones added to their queries; None where one is unknown."""
    operands = [node.this] if isinstance(node, exp.Avg) else [node.this, node.expression]
    scales: list[Scale] = []
    for operand in operands:
        fixed = fixed_scale(operand)
        carried = None if fixed is not None else carried_scale(operand, add=True)
        if fixed is None and carried is None:
            return None
        scales.append(fixed if fixed is not None else carried)  # type: ignore[arg-type]
    return scales[0], scales[1] if len(scales) > 1 else 0


def quotient(
    dividend: exp.Expr, scale1: Scale, divisor: exp.Expr, scale2: Scale, *, as_text: bool = False
) -> tuple[exp.Expr, str]:
    """PostgreSQL's `dividend / divisor` (numeric_div) in DuckDB, as DECIMAL(38, 20) or, with
    `as_text`, as the text PostgreSQL writes (every digit of its scale): a call of a DuckDB
    macro, and that macro's definition. The macro takes the operands as unscaled HUGEINTs,
    finds the result scale of `select_div_scale` from each one's base-10000 weight and first
    digit, and rounds the quotient half away from zero there. An operand's scale computed
    per value (`carried_scale`) is passed to the macro with it."""
    text = "_text" if as_text else ""
    operands = [dividend.copy(), divisor.copy()]
    if isinstance(scale1, int) and isinstance(scale2, int):
        name = f"dvt_pg_numeric_div_{scale1}_{scale2}{text}"
        body = _template((str(scale1), str(scale2)), as_text, carried=False)
        parameters = "dvt_a, dvt_b"
    else:
        name = f"dvt_pg_numeric_div_carried{text}"
        given = [
            s.copy() if isinstance(s, exp.Expr) else exp.Literal.number(s) for s in (scale1, scale2)
        ]
        operands.extend(exp.cast(s, exp.DType.INT) for s in given)
        body = _template(("dvt_sa", "dvt_sb"), as_text, carried=True)
        parameters = "dvt_a, dvt_b, dvt_sa, dvt_sb"
    call = exp.Anonymous(this=name, expressions=operands)
    return call, f"CREATE OR REPLACE TEMP MACRO {name}({parameters}) AS ({body})"


def _weight(digits: str, scale: str) -> str:
    """The base-10000 weight of the first digit of a positive value whose unscaled integer's
    text is `digits`, at `scale`."""
    return f"CAST(FLOOR((LENGTH({digits}) - (1 + {scale})) / 4) AS INTEGER)"


def _first_digit(digits: str, scale: str) -> str:
    """That value's first base-10000 digit: its leading 1 to 4 decimal digits, padded."""
    width = f"CAST(LENGTH({digits}) - {scale} - 4 * {_weight(digits, scale)} AS INTEGER)"
    return f"CAST(RPAD(LEFT({digits}, {width}), {width}, '0') AS INTEGER)"


def _result_scale(
    digits_a: str, digits_b: str, a: str, at: tuple[str, str], scales: tuple[str, str]
) -> str:
    """`select_div_scale`: the display scale of `a / b`, from the texts of their unscaled
    absolute values (unscaled `at` those scales), their display `scales`, and `a` itself for
    its zero test."""
    weight_a = f"CASE WHEN {a} = 0 THEN 0 ELSE {_weight(digits_a, at[0])} END"
    first_a = f"CASE WHEN {a} = 0 THEN 0 ELSE {_first_digit(digits_a, at[0])} END"
    qweight = (
        f"({weight_a} - {_weight(digits_b, at[1])} - "
        f"CASE WHEN {first_a} <= {_first_digit(digits_b, at[1])} THEN 1 ELSE 0 END)"
    )
    return f"GREATEST(16 - 4 * {qweight}, {scales[0]}, {scales[1]})"


def _trailing_zeros(digits: str) -> str:
    return f"(LENGTH({digits}) - LENGTH(RTRIM({digits}, '0')))"


def _power_of_ten(exponent: str) -> str:
    return f"CAST(RPAD('1', CAST({exponent} + 1 AS INTEGER), '0') AS HUGEINT)"


def _bind(fields: dict[str, str], name: str, body: str) -> str:
    """`body` with `name`.<field> standing for each of `fields`, each computed once (a
    one-element list through a lambda: DuckDB has no LET). Fields are read as name['field']:
    DuckDB binds name.field as a column where the query aggregates."""
    struct = ", ".join(f"'{k}': {v}" for k, v in fields.items())
    body = re.sub(rf"\b{name}\.(\w+)", rf"{name}['\1']", body)
    return f"LIST_TRANSFORM([{{{struct}}}], LAMBDA {name}: {body})[1]"


def _template(scales: tuple[str, str], as_text: bool, *, carried: bool) -> str:
    """numeric_div in DuckDB SQL over `dvt_a` and `dvt_b` (each read once), whose display
    scales are `scales` (constants, or the macro's parameters). A fixed scale is also the one
    each operand is unscaled at; a carried operand is unscaled at its DECIMAL's own scale in
    the engine (its text's digits: PostgreSQL's scale may exceed what HUGEINT holds), which
    each step carries along as `e1`, `e2`."""
    scale1, scale2 = scales

    def digit_scales(level: str) -> tuple[str, str]:
        return (f"{level}.e1", f"{level}.e2") if carried else scales

    def passed(level: str) -> dict[str, str]:
        return {"e1": f"{level}.e1", "e2": f"{level}.e2"} if carried else {}

    da, db = "CAST(dvt_v.a AS VARCHAR)", "CAST(dvt_v.b AS VARCHAR)"
    e1, e2 = digit_scales("dvt_v")
    rscale = _result_scale(da, db, "dvt_v.a", (e1, e2), scales)
    # a * 10^(r + e2 - e1) / b, rounded half away from zero: each operand's trailing zeros
    # dropped first (a sum's scale may exceed its digits by far), a negative power of ten
    # moved to the divisor, and the division long (a's quotient and remainder apart), so that
    # no step needs more digits than HUGEINT holds where the quotient fits.
    w1, w2 = digit_scales("dvt_w")
    shift = f"(dvt_w.r + ({w2}) - ({w1}) + dvt_w.z)"
    fields = {
        "a": "dvt_w.a",
        "p": _power_of_ten(f"GREATEST({shift}, 0)"),
        "d": f"dvt_w.b * {_power_of_ten(f'GREATEST(-{shift}, 0)')}",
    }
    long_division = _bind(
        {
            "whole": "(dvt_y.a // dvt_y.d) * dvt_y.p",
            "part": "(dvt_y.a % dvt_y.d) * dvt_y.p",
            "d": "dvt_y.d",
        },
        "dvt_z",
        "(dvt_z.whole + dvt_z.part // dvt_z.d "
        "+ CASE WHEN 2 * (dvt_z.part % dvt_z.d) >= dvt_z.d THEN 1 ELSE 0 END)",
    )
    rounded = _bind(fields, "dvt_y", long_division)
    signed = f"CASE WHEN dvt_w.negative THEN -{rounded} ELSE {rounded} END"
    excess = _power_of_ten(f"dvt_x.r - {QUOTIENT_SCALE}")
    at_scale = (
        f"CASE WHEN dvt_x.r <= {QUOTIENT_SCALE} "
        f"THEN dvt_x.q * {_power_of_ten(f'{QUOTIENT_SCALE} - dvt_x.r')} "
        f"WHEN dvt_x.q % {excess} = 0 THEN dvt_x.q // {excess} "
        f"ELSE ERROR('{INEXACT}') END"
    )
    unit = f"0.{'0' * (QUOTIENT_SCALE - 1)}1"
    value = f"CAST({at_scale} AS DECIMAL(38, 0)) * CAST({unit} AS DECIMAL(38, {QUOTIENT_SCALE}))"
    if as_text:
        power = _power_of_ten("dvt_x.r")
        fraction = f"LPAD(CAST(ABS(dvt_x.q) % {power} AS VARCHAR), CAST(dvt_x.r AS INTEGER), '0')"
        value = (
            "CASE WHEN dvt_x.r = 0 THEN CAST(dvt_x.q AS VARCHAR) ELSE "
            "CASE WHEN dvt_x.q < 0 THEN '-' ELSE '' END || "
            f"CAST(ABS(dvt_x.q) // {power} AS VARCHAR) || '.' || {fraction} END"
        )
    exact = _bind({"q": signed, "r": "dvt_w.r"}, "dvt_x", value)
    zeros_a, zeros_b = _trailing_zeros(da), _trailing_zeros(db)
    fields = {
        "a": f"dvt_v.a // {_power_of_ten(zeros_a)}",
        "b": f"dvt_v.b // {_power_of_ten(zeros_b)}",
        "r": rscale,
        "z": f"{zeros_a} - {zeros_b}",
        "negative": "dvt_v.negative",
        **passed("dvt_v"),
    }
    scaled = _bind(fields, "dvt_w", exact)
    positive = _bind(
        {
            "a": "ABS(dvt_u.a)",
            "b": "ABS(dvt_u.b)",
            "negative": "(dvt_u.a < 0) <> (dvt_u.b < 0)",
            **passed("dvt_u"),
        },
        "dvt_v",
        scaled,
    )
    checked = (
        "CASE WHEN dvt_u.a IS NULL OR dvt_u.b IS NULL THEN NULL "
        f"WHEN dvt_u.b = 0 THEN ERROR('division by zero') ELSE {positive} END"
    )
    if carried:
        operands = {
            "a": _unscaled_text("dvt_a"),
            "b": _unscaled_text("dvt_b"),
            "e1": _text_scale("dvt_a"),
            "e2": _text_scale("dvt_b"),
        }
    else:
        operands = {"a": _unscaled("dvt_a", int(scale1)), "b": _unscaled("dvt_b", int(scale2))}
    return _bind(operands, "dvt_u", checked)


def _unscaled(operand: str, scale: int) -> str:
    shifted = f"{operand} * 1{'0' * scale}" if scale else operand
    return f"CAST({shifted} AS HUGEINT)"


def _unscaled_text(operand: str) -> str:
    """An exact value's unscaled integer at its DECIMAL's own scale: its text's digits."""
    return f"CAST(REPLACE(CAST({operand} AS VARCHAR), '.', '') AS HUGEINT)"


def _text_scale(operand: str) -> str:
    """The scale of an exact value's DECIMAL in the engine: the digits its text shows after
    the point."""
    return f"LENGTH(SPLIT_PART(CAST({operand} AS VARCHAR), '.', 2))"
