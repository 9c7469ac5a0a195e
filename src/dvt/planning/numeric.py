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
"""

from __future__ import annotations

import re
from collections.abc import Callable

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
    if isinstance(node, (exp.Paren, exp.Neg, exp.Abs, exp.Alias)):
        return engine_scale(node.this)
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
    query = _source_query(column)
    if query is None:
        kind = column.type
        if kind is None:
            return None
        if kind.this in exp.DataType.INTEGER_TYPES:
            return 0
        if kind.this == Type.DECIMAL and len(kind.expressions) == 2:
            return int(kind.expressions[1].name)
        return None
    selects = _branch_selects(query)
    if not selects:
        return None
    names = [p.alias_or_name for p in selects[0].selects]
    if column.name not in names:
        return None
    position = names.index(column.name)
    projections = [s.selects[position] for s in selects if len(s.selects) > position]
    if len(projections) != len(selects):
        return None
    return _one_scale([p.unalias() for p in projections])


def _branch_selects(query: exp.Expr) -> list[exp.Select]:
    if isinstance(query, exp.Subquery):
        return _branch_selects(query.this)
    if isinstance(query, exp.Select):
        return [query]
    if isinstance(query, exp.SetOperation):
        return [*_branch_selects(query.this), *_branch_selects(query.expression)]
    return []


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


# -- where a quotient may go --------------------------------------------------------------


def quotient_refusal(node: exp.Expr) -> str | None:
    """None when the quotient `node` (a numeric division, or avg() of an exact number) may be
    computed in the engine: each operand has one fixed scale, and the value reaches only what
    reads the value alone (`reader`)."""
    if isinstance(node, exp.Avg):
        if isinstance(node.parent, exp.Window) or isinstance(node.this, exp.Distinct):
            return "avg() as a window function or of DISTINCT values"
        operands = [node.this]
    else:
        operands = [node.this, node.expression]
    if any(fixed_scale(o) is None for o in operands):
        return "a numeric division of a value whose scale differs from row to row"
    _, reader = _path(node)
    if isinstance(reader, _COMPARISONS):
        if all(_exact(_value_of(o)) for o in reader.iter_expressions()):
            return None
        return "a numeric quotient compared with a value that is not an exact number"
    if isinstance(reader, exp.Ordered) or (
        isinstance(reader, exp.Round) and _round_digits(reader) is not None
    ):
        return None
    if output_quotient(node):
        return None
    where = "a column" if isinstance(reader, (exp.Alias, exp.Select)) else reader.key
    return f"a numeric quotient as {where} (PostgreSQL keeps its scale per value)"


def output_quotient(node: exp.Expr) -> bool:
    """Whether the quotient `node` is a column of the query's result as it is (in parentheses
    at most), which the engine writes as its text with PostgreSQL's scale: the target reads
    the digits back into an unconstrained numeric, each value with its own scale. Not where
    the result is DISTINCT or ordered by that column (text is not ordered as numbers)."""
    outer: exp.Expr = node
    while isinstance(outer.parent, exp.Paren):
        outer = outer.parent
    projection = outer.parent if isinstance(outer.parent, exp.Alias) else outer
    select = projection.parent
    if not isinstance(select, exp.Select) or select.parent is not None:
        return False
    if not any(p is projection for p in select.selects) or select.args.get("distinct"):
        return False
    name, position = (
        projection.alias_or_name,
        1 + next(i for i, p in enumerate(select.selects) if p is projection),
    )
    for ordered in (select.args.get("order") or exp.Order()).expressions:
        key = ordered.this
        if isinstance(key, exp.Column) and not key.table and key.name == name:
            return False
        if isinstance(key, exp.Literal) and key.is_int and int(key.this) == position:
            return False
    return True


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


def spell_exact_numerics(tree: exp.Expr) -> tuple[bool, tuple[str, ...]]:
    """Spell, in place, each quotient the list accepted as PostgreSQL computes it, cast the
    exact values it meets (in a CASE, in a comparison) to one DECIMAL, and give round() its
    constant scale. Returns whether the tree has either (the engine's query may then fail
    with INEXACT or an overflow of DECIMAL(38), where the target answers: the node goes back),
    and the DuckDB macros the quotients call (`quotient`), to create before the query runs."""
    quotients = [n for n in tree.walk() if is_quotient(n)]
    rounds = [
        (n, digits)
        for n in tree.find_all(exp.Round)
        if (digits := _round_digits(n)) is not None and n.this.is_type(Type.DECIMAL)
    ]
    if not quotients and not rounds:
        return False, ()
    groups: list[list[exp.Expr]] = []
    for quotient in quotients:
        path, reader = _path(quotient)
        groups.extend(_branches(n) for n in path if isinstance(n, exp.Case))
        if isinstance(reader, _COMPARISONS):
            groups.append(list(reader.iter_expressions()))
    casts: dict[int, tuple[exp.Expr, int]] = {}
    for group in groups:
        values = [v for v in group if not isinstance(v, exp.Null)]
        scales = [engine_scale(_value_of(v)) for v in values]
        scale = max((s for s in scales if s is not None), default=QUOTIENT_SCALE)
        for value in values:
            previous = casts.get(id(value), (value, 0))[1]
            casts[id(value)] = (value, max(scale, previous))
    spelled = [(q, _quotient_sql(q, as_text=output_quotient(q))) for q in quotients]
    for rounded, digits in rounds:
        _wrap_in_decimal(rounded, digits)
    for value, scale in casts.values():
        _wrap_in_decimal(value, scale)
    for quotient, (call, _) in spelled:
        quotient.replace(call)
    return True, tuple(sorted({macro for _, (_, macro) in spelled}))


def _wrap_in_decimal(node: exp.Expr, scale: int) -> None:
    """`node` becomes CAST(node AS DECIMAL(38, scale)), in place (the node itself is kept)."""
    cast = exp.Cast(this=exp.null(), to=exp.DataType.build(f"DECIMAL(38, {scale})"))
    node.replace(cast)
    cast.set("this", node)


def _quotient_sql(node: exp.Expr, *, as_text: bool) -> tuple[exp.Expr, str]:
    if isinstance(node, exp.Avg):  # PostgreSQL's numeric_avg: the sum by the count
        value = node.this
        sum_, count = exp.Sum(this=value.copy()), exp.Count(this=value.copy())
        return quotient(sum_, fixed_scale(value) or 0, count, 0, as_text=as_text)
    left, right = node.this, node.expression
    scales = fixed_scale(left) or 0, fixed_scale(right) or 0
    return quotient(left, scales[0], right, scales[1], as_text=as_text)


def quotient(
    dividend: exp.Expr, scale1: int, divisor: exp.Expr, scale2: int, *, as_text: bool = False
) -> tuple[exp.Expr, str]:
    """PostgreSQL's `dividend / divisor` (numeric_div) in DuckDB, as DECIMAL(38, 20) or, with
    `as_text`, as the text PostgreSQL writes (every digit of its scale): a call of a DuckDB
    macro, and that macro's definition. The macro takes the operands as unscaled HUGEINTs,
    finds the result scale of `select_div_scale` from each one's base-10000 weight and first
    digit, and rounds the quotient half away from zero there."""
    name = f"dvt_pg_numeric_div_{scale1}_{scale2}{'_text' if as_text else ''}"
    call = exp.Anonymous(this=name, expressions=[dividend.copy(), divisor.copy()])
    body = _template(scale1, scale2, as_text)
    return call, f"CREATE OR REPLACE TEMP MACRO {name}(dvt_a, dvt_b) AS ({body})"


def _weight(digits: str, scale: int) -> str:
    """The base-10000 weight of the first digit of a positive value whose unscaled integer's
    text is `digits`, at `scale`."""
    return f"CAST(FLOOR((LENGTH({digits}) - {1 + scale}) / 4) AS INTEGER)"


def _first_digit(digits: str, scale: int) -> str:
    """That value's first base-10000 digit: its leading 1 to 4 decimal digits, padded."""
    width = f"CAST(LENGTH({digits}) - {scale} - 4 * {_weight(digits, scale)} AS INTEGER)"
    return f"CAST(RPAD(LEFT({digits}, {width}), {width}, '0') AS INTEGER)"


def _power_of_ten(exponent: str) -> str:
    return f"CAST(RPAD('1', CAST({exponent} + 1 AS INTEGER), '0') AS HUGEINT)"


def _bind(fields: dict[str, str], name: str, body: str) -> str:
    """`body` with `name`.<field> standing for each of `fields`, each computed once (a
    one-element list through a lambda: DuckDB has no LET). Fields are read as name['field']:
    DuckDB binds name.field as a column where the query aggregates."""
    struct = ", ".join(f"'{k}': {v}" for k, v in fields.items())
    body = re.sub(rf"\b{name}\.(\w+)", rf"{name}['\1']", body)
    return f"LIST_TRANSFORM([{{{struct}}}], LAMBDA {name}: {body})[1]"


def _template(scale1: int, scale2: int, as_text: bool) -> str:
    """numeric_div in DuckDB SQL over `dvt_a` and `dvt_b` (each read once)."""
    da, db = "CAST(dvt_v.a AS VARCHAR)", "CAST(dvt_v.b AS VARCHAR)"
    weight_a = f"CASE WHEN dvt_v.a = 0 THEN 0 ELSE {_weight(da, scale1)} END"
    first_a = f"CASE WHEN dvt_v.a = 0 THEN 0 ELSE {_first_digit(da, scale1)} END"
    qweight = (
        f"({weight_a} - {_weight(db, scale2)} - "
        f"CASE WHEN {first_a} <= {_first_digit(db, scale2)} THEN 1 ELSE 0 END)"
    )
    rscale = f"GREATEST(16 - 4 * {qweight}, {scale1}, {scale2})"
    shifted = f"dvt_w.a * {_power_of_ten(f'dvt_w.r + {scale2 - scale1}')}"
    rounded = (
        f"({shifted} // dvt_w.b + CASE WHEN 2 * ({shifted} % dvt_w.b) >= dvt_w.b THEN 1 ELSE 0 END)"
    )
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
    fields = {"a": "dvt_v.a", "b": "dvt_v.b", "r": rscale, "negative": "dvt_v.negative"}
    scaled = _bind(fields, "dvt_w", exact)
    positive = _bind(
        {"a": "ABS(dvt_u.a)", "b": "ABS(dvt_u.b)", "negative": "(dvt_u.a < 0) <> (dvt_u.b < 0)"},
        "dvt_v",
        scaled,
    )
    checked = (
        "CASE WHEN dvt_u.a IS NULL OR dvt_u.b IS NULL THEN NULL "
        f"WHEN dvt_u.b = 0 THEN ERROR('division by zero') ELSE {positive} END"
    )
    unscaled = {"a": _unscaled("dvt_a", scale1), "b": _unscaled("dvt_b", scale2)}
    return _bind(unscaled, "dvt_u", checked)


def _unscaled(operand: str, scale: int) -> str:
    shifted = f"{operand} * 1{'0' * scale}" if scale else operand
    return f"CAST({shifted} AS HUGEINT)"
