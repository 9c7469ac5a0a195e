"""The same-semantics list: what means the same in two places (DESIGN.md section 6).

Two questions, each answered from data kept here, one entry per construct:

- may a WHERE conjunct be read on a source instead of on the node's target
  (`portable_predicate`)? Only comparisons whose meaning no collation, escape rule, time zone or
  date style can change, on a source that reads them as the target does (`Reading`);
- does a whole query mean the same in an engine as on its target (`engine_refusal`)? Every
  expression in the typed tree must be listed for the (target dialect, engine) pair, and pass
  its entry's check. The first construct that does not is named, and the node is computed on
  its target instead (or fails with DVT104 when the engine was forced).

Result column *types* are not this list's concern: the engine placement writes into a stage
whose columns the target itself typed (`execution.placements`), so only values must agree.
Each entry has a differential test in tests/functional/test_same_semantics.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlglot.expressions as exp
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.typing.postgres import EXPRESSION_METADATA as _POSTGRES_TYPING

from dvt.planning import numeric

Type = exp.DType
#: A check on one node of the typed tree: None when it means the same, else why not.
Check = Callable[[exp.Expr], str | None]

_TEXT = exp.DataType.TEXT_TYPES - {Type.CHAR, Type.NCHAR}
_CHAR = {Type.CHAR, Type.NCHAR}
_INTEGER = exp.DataType.INTEGER_TYPES
_EXACT = _INTEGER | {Type.DECIMAL}
_NUMBER = _EXACT | exp.DataType.FLOAT_TYPES
_ZONED = {Type.TIMESTAMPTZ, Type.TIMESTAMPLTZ, Type.TIMETZ}
#: A date or a local date and time (DuckDB's and Spark's `timestamp` types as TIMESTAMPNTZ).
_LOCAL = {Type.DATE, Type.TIMESTAMP, Type.TIMESTAMPNTZ}
_LOCAL_TIME = _LOCAL - {Type.DATE}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?")
#: An ISO date and time with its UTC offset written out: an instant, whatever the session's
#: TimeZone (dbt writes a microbatch batch's bounds so: '2024-01-01 00:00:00+00:00').
_ISO_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2})?")
#: What PostgreSQL and DuckDB compare such a literal with alike, in any session TimeZone: a
#: timestamptz with its instant; a date or a timestamp with its date (and time), the offset
#: dropped (PostgreSQL "silently ignores any time zone indication"; DuckDB does the same).
_READS_INSTANTS = {Type.DATE, Type.TIMESTAMP, Type.TIMESTAMPNTZ, Type.TIMESTAMPTZ}
_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Between)
_SAME_EXTRACT_FIELDS = {"YEAR", "QUARTER", "MONTH", "DAY", "HOUR", "MINUTE", "DOW", "DOY"}
_SAME_TRUNC_UNITS = {"YEAR", "QUARTER", "MONTH", "WEEK", "DAY", "HOUR", "MINUTE"}


def _typed_as(numeric_from: set[Type]) -> Any:
    def annotator(self: Any, node: exp.Expr) -> exp.Expr:
        exact = node.this.is_type(*numeric_from)
        return self._set_type(node, Type.DECIMAL if exact else Type.DOUBLE)

    return annotator


def _postgres_literal(self: Any, node: exp.Literal) -> exp.Literal:
    self._annotate_literal(node)
    if node.is_number and not node.is_int:
        self._set_type(node, Type.DECIMAL)
    return node


#: PostgreSQL's types where SQLGlot's differ: a number written with a point or an exponent is
#: a numeric, and so are avg() of an integer or a numeric and round() of a numeric (SQLGlot
#: says double precision for all three).
_TYPING = {
    **_POSTGRES_TYPING,
    exp.Literal: {"annotator": _postgres_literal},
    exp.Avg: {"annotator": _typed_as(_EXACT)},
    exp.Round: {"annotator": _typed_as({Type.DECIMAL})},
}


def annotate(tree: exp.Expr, schema: Any, dialect: str) -> exp.Expr:
    """SQLGlot's types for `tree`, with PostgreSQL's own where they differ (`_TYPING`)."""
    metadata = _TYPING if dialect == "postgres" else None
    return annotate_types(tree, schema=schema, dialect=dialect, expression_metadata=metadata)


def kind_of(node: exp.Expr | None) -> Type | None:
    """The type SQLGlot's annotation gave `node`, if any."""
    kind = getattr(node, "type", None)
    return kind.this if isinstance(kind, exp.DataType) else None


def _operands(node: exp.Expr) -> list[exp.Expr]:
    return [v for v in (node.this, node.args.get("expression")) if isinstance(v, exp.Expr)]


def _kinds(node: exp.Expr) -> set[Type | None]:
    return {kind_of(o) for o in _operands(node)}


def _literal_int(node: exp.Expr | None) -> int | None:
    if isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Literal) and node.is_int:
        return int(node.this)
    return None


# -- checks -------------------------------------------------------------------------------


def _column(node: exp.Expr) -> str | None:
    """A column's values carried as they are. A time zone matters only where an instant
    becomes local time (casts, extract, date_trunc, arithmetic, text, a literal compared with
    it), and each of those entries refuses zoned values itself."""
    kind = node.type
    if not isinstance(kind, exp.DataType) or kind.this == Type.UNKNOWN:
        return "a column of unknown type"
    if kind.this in _CHAR:
        return f"a {kind.sql()} column (blank-padded comparison)"
    if kind.this == Type.DECIMAL and not kind.expressions and not numeric.derived_column(node):
        return "an unbounded numeric column (the engine reads it as DOUBLE)"
    allowed = _NUMBER | _TEXT | _ZONED | _LOCAL | {Type.BOOLEAN}
    if kind.this not in allowed:
        return f"a {kind.sql()} column"
    return None


def _instant_literal(node: exp.Expr) -> bool:
    """A string literal with its UTC offset written out, compared only with dates and times
    (`_READS_INSTANTS`): it means the same in PostgreSQL and DuckDB, in any session TimeZone."""
    if not isinstance(node, exp.Literal) or not node.is_string:
        return False
    parent = node.parent
    if not _ISO_INSTANT.fullmatch(node.this) or not isinstance(parent, _COMPARISONS):
        return False
    others = [
        o
        for o in parent.iter_expressions()
        if o is not node and not (isinstance(o, exp.Literal) and _ISO_INSTANT.fullmatch(o.this))
    ]
    return bool(others) and all(kind_of(o) in _READS_INSTANTS for o in others)


def _literal(node: exp.Expr) -> str | None:
    """`_zoneless_literal`, and an instant (`_instant_literal`): DuckDB reads one as
    PostgreSQL does."""
    return None if _instant_literal(node) else _zoneless_literal(node)


def _zoneless_literal(node: exp.Expr) -> str | None:
    """A string literal read as a date or time is parsed under DateStyle: ISO only, and no
    UTC offset (`_literal` takes one where it is proven); read as a timestamptz, it is local
    time of the session's TimeZone. A number in exponent notation is an exact numeric in
    PostgreSQL, a DOUBLE in DuckDB and Spark."""
    if node.is_number and "e" in node.this.lower():
        return f"the number {node.sql()} (exact numeric in PostgreSQL, a float elsewhere)"
    parent = node.parent
    if not node.is_string or not isinstance(parent, (exp.Binary, exp.Between, exp.In)):
        return None
    kinds = {kind_of(o) for o in parent.iter_expressions()}
    if kinds & (_ZONED | _LOCAL) and _ISO_INSTANT.fullmatch(node.this):
        return f"the literal {node.sql()} with a UTC offset (not proven to be read alike here)"
    if kinds & _ZONED:
        return f"the literal {node.sql()} read in the target session's TimeZone"
    temporal = _LOCAL & kinds
    if temporal and not _ISO_DATE.fullmatch(node.this):
        return f"the date literal {node.sql()} (parsed under the target's DateStyle)"
    return None


def _mixed_zones(node: exp.Expr) -> str | None:
    """A timestamp compared with a timestamptz is read as local time of the session's zone."""
    kinds = {kind_of(o) for o in node.iter_expressions()}
    if kinds & _ZONED and kinds & _LOCAL:
        return f"{node.key.upper()} of a timestamptz with a local date or time"
    return None


def _membership(node: exp.Expr) -> str | None:
    """`x IN (...)`, `x = ANY (subquery)`: each value is compared with `x` as `=` compares
    them, and a date or timestamp against a timestamptz is local time of the session's zone
    on the target (DuckDB casts the date at UTC midnight in a subquery's comparison)."""
    if isinstance(node, exp.Any):
        compared = node.parent
        if not isinstance(compared, exp.Binary):
            return None
        operand = compared.left if compared.right is node else compared.right
        values: list[exp.Expr] = list(getattr(node.this, "selects", []))
    else:
        operand = node.this
        query = node.args.get("query")
        values = list(node.expressions) + list(getattr(query, "selects", []))
    kinds = {kind_of(operand), *(kind_of(v) for v in values)}
    if kinds & _ZONED and kinds & _LOCAL:
        return f"{node.key.upper()} of a timestamptz with a local date or time"
    return None


def _set_operation(node: exp.Expr) -> str | None:
    """Branches whose columns differ in type are cast to a common one by the target's rules
    (a timestamp becomes a timestamptz in the session's zone): numbers alone are the same."""
    left, right = node.this, node.args.get("expression")
    if not isinstance(left, exp.Query) or not isinstance(right, exp.Query):
        return None
    for a, b in zip(left.selects, right.selects, strict=False):
        kinds = {kind_of(a), kind_of(b)}
        if len(kinds) > 1 and not kinds <= _NUMBER:
            return f"{node.key.upper()} of {' and '.join(sorted(str(k) for k in kinds))}"
    return None


def _equality(node: exp.Expr) -> str | None:
    # Text equality is byte equality under PostgreSQL's deterministic collations.
    return _mixed_zones(node)


def _ordering(node: exp.Expr) -> str | None:
    """Text is ordered by the target's collation; a string literal compared with a date or a
    number is that type's constant (its spelling is `_literal`'s concern)."""
    kinds = {kind_of(o) for o in node.iter_expressions()}
    if kinds & _TEXT and not kinds & (_NUMBER | _LOCAL | _ZONED):
        return f"{node.key.upper()} on text (ordered by the target's collation)"
    return _mixed_zones(node)


def _ordered(node: exp.Expr) -> str | None:
    if kind_of(node.this) in _TEXT:
        return "ORDER BY text (sorted by the target's collation)"
    return None


def _arithmetic(node: exp.Expr) -> str | None:
    kinds = _kinds(node)
    if kinds & (_LOCAL_TIME | {None, Type.UNKNOWN}) or not kinds <= _NUMBER | {Type.DATE}:
        return f"{type(node).__name__.lower()} of {', '.join(sorted(str(k) for k in kinds))}"
    return None


def _division(node: exp.Expr) -> str | None:
    """An integer by a non-zero integer constant (PostgreSQL truncates: the engine is told to);
    a float8 division: double precision by a number, or a number by one, which the engine
    spells with PostgreSQL's errors (x / 0, overflow, underflow; `engine_spelling`), where
    DuckDB gives infinities; a numeric division whose quotient only a comparison, ORDER BY or
    round() reads (it has a scale of its own per value: `numeric`)."""
    divisor = _literal_int(node.args.get("expression"))
    if kind_of(node.this) in _INTEGER and divisor:
        return None
    if float_division(node):
        return None
    if numeric.is_numeric_division(node):
        return numeric.quotient_refusal(node)
    return "division other than of numbers, or of integers by anything but a non-zero constant"


def _avg(node: exp.Expr) -> str | None:
    """avg() of an exact number is PostgreSQL's numeric division of its sum by its count."""
    if numeric.is_quotient(node):
        return numeric.quotient_refusal(node)
    return "avg() of a non-exact number (summation order changes the result)"


def _round(node: exp.Expr) -> str | None:
    """round() of a numeric to a constant scale: half away from zero in both, and the scale
    given to the result (`numeric.spell_exact_numerics`)."""
    assert isinstance(node, exp.Round)
    if kind_of(node.this) == Type.DECIMAL and numeric.fixed_scale(node) is not None:
        return None
    return "round() of anything but a numeric, or to a scale that is not a constant"


def float_division(node: exp.Expr) -> bool:
    """PostgreSQL's float8 `/`: a double precision operand, the other a double or exact number
    (cast to double precision, as PostgreSQL casts it implicitly)."""
    kinds = _kinds(node)
    return Type.DOUBLE in kinds and kinds <= _EXACT | {Type.DOUBLE}


def _exact_sum(node: exp.Expr) -> str | None:
    if kind_of(node.this) in _EXACT:
        return None
    return "sum() of a non-integer, non-numeric value (summation order changes the result)"


def _not_text_arg(node: exp.Expr) -> str | None:
    if kind_of(node.this) in _TEXT:
        return f"{node.key}() of text (ordered by the target's collation)"
    return None


def _like(node: exp.Expr) -> str | None:
    pattern = node.args.get("expression")
    if isinstance(pattern, exp.Literal) and pattern.is_string and "\\" not in pattern.this:
        return None
    return "LIKE with a backslash or a computed pattern (escape rules differ)"


def _extract(node: exp.Expr) -> str | None:
    field = node.this.name.upper() if isinstance(node.this, exp.Expr) else ""
    if field in _SAME_EXTRACT_FIELDS and kind_of(node.expression) in _LOCAL:
        return None
    return f"extract({field.lower()} ...)"


def _trunc(node: exp.Expr) -> str | None:
    unit = node.args.get("unit")
    name = unit.name.upper() if isinstance(unit, exp.Expr) else ""
    if name in _SAME_TRUNC_UNITS and kind_of(node.this) in _LOCAL_TIME:
        return None
    return "date_trunc() of anything but a timestamp (a date becomes timestamptz)"


def _cast(node: exp.Expr) -> str | None:
    assert isinstance(node, exp.Cast)
    if isinstance(node.this, exp.Literal) and node.this.is_string:
        return _constant_cast(node)
    to = node.to.this if isinstance(node.to, exp.DataType) else None
    source = kind_of(node.this)
    if to in _INTEGER and source in _INTEGER:
        return None
    if to == Type.DATE and source in _LOCAL:
        return None
    if to in _TEXT and source in _TEXT | _INTEGER:
        return None
    if to == Type.DECIMAL and source in _EXACT and node.to.expressions:
        return None
    if to == Type.DOUBLE and source in _EXACT | {Type.DOUBLE}:  # numerics through text
        return None
    return f"a cast from {source} to {to}"


def _cast_not_to_double(node: exp.Expr) -> str | None:
    if kind_of(node) == Type.DOUBLE and kind_of(node.this) != Type.DOUBLE:
        return f"a cast from {kind_of(node.this)} to DOUBLE (not proven on Spark)"
    return _cast(node)


def _concat(node: exp.Expr) -> str | None:
    if _kinds(node) <= _TEXT | _INTEGER:
        return None
    return "|| of values that are not text or integers (formatting differs)"


def _text_arg(node: exp.Expr) -> str | None:
    return None if kind_of(node.this) in _TEXT else f"{node.key}() of a non-text value"


def _number_arg(node: exp.Expr) -> str | None:
    return None if kind_of(node.this) in _EXACT else f"{node.key}() of a non-exact number"


#: Constructs that mean the same in DuckDB as in PostgreSQL, with their conditions.
_POSTGRES_ON_DUCKDB: Mapping[type[exp.Expr], Check | None] = {
    # structure
    exp.Select: None,
    exp.From: None,
    exp.Join: None,
    exp.Where: None,
    exp.Group: None,
    exp.Having: None,
    exp.Order: None,
    exp.Ordered: _ordered,
    exp.Limit: None,
    exp.Offset: None,
    exp.Distinct: None,
    exp.Subquery: None,
    exp.With: None,
    exp.CTE: None,
    exp.Union: _set_operation,
    exp.Intersect: _set_operation,
    exp.Except: _set_operation,
    exp.Table: None,
    exp.TableAlias: None,
    exp.Alias: None,
    exp.Identifier: None,
    exp.Star: None,
    exp.Paren: None,
    exp.Var: None,
    exp.Window: None,
    # values
    exp.Column: _column,
    exp.Literal: _literal,
    exp.Null: None,
    exp.Boolean: None,
    exp.DataType: None,
    exp.DataTypeParam: None,
    exp.Cast: _cast,
    # logic and comparison
    exp.And: None,
    exp.Or: None,
    exp.Not: None,
    exp.Is: None,
    exp.In: _membership,
    exp.Exists: None,
    exp.Any: _membership,
    exp.EQ: _equality,
    exp.NEQ: _equality,
    exp.GT: _ordering,
    exp.GTE: _ordering,
    exp.LT: _ordering,
    exp.LTE: _ordering,
    exp.Between: _ordering,
    exp.Like: _like,
    exp.Case: None,
    exp.If: None,
    exp.Coalesce: None,
    # arithmetic
    exp.Add: _arithmetic,
    exp.Sub: _arithmetic,
    exp.Mul: _arithmetic,
    exp.Neg: None,
    exp.Div: _division,
    exp.IntDiv: _division,
    exp.Abs: _number_arg,
    exp.DPipe: _concat,
    exp.Length: _text_arg,
    # aggregates and windows
    exp.Count: None,
    exp.Sum: _exact_sum,
    exp.Avg: _avg,
    exp.Round: _round,
    exp.Min: _not_text_arg,
    exp.Max: _not_text_arg,
    exp.RowNumber: None,
    exp.Rank: None,
    exp.DenseRank: None,
    # dates
    exp.Extract: _extract,
    exp.TimestampTrunc: _trunc,
}

#: Spark: no division, avg() or round(), no cast to double precision, and no literal with a
#: UTC offset (not proven there).
_ON_SPARK: Mapping[type[exp.Expr], Check | None] = {
    **{k: v for k, v in _POSTGRES_ON_DUCKDB.items() if k not in (exp.Div, exp.Avg, exp.Round)},
    exp.Literal: _zoneless_literal,
    exp.Cast: _cast_not_to_double,
}

#: (target dialect, engine dialect) -> the constructs proven to mean the same there. A DuckDB
#: target computed in the embedded DuckDB runs the same library: everything is the same.
SAME_SEMANTICS: Mapping[tuple[str, str], Mapping[type[exp.Expr], Check | None] | None] = {
    ("postgres", "duckdb"): _POSTGRES_ON_DUCKDB,
    ("postgres", "spark"): _ON_SPARK,
    ("duckdb", "duckdb"): None,
    ("duckdb", "spark"): _ON_SPARK,
}


#: The entries that change where the target orders text by its bytes, as the engines do (a
#: PostgreSQL database whose collation is C, and no column of another): text may be ordered,
#: compared by order, and its min() and max() taken.
BYTEWISE_TEXT: Mapping[type[exp.Expr], Check | None] = {
    exp.Ordered: None,
    exp.GT: _mixed_zones,
    exp.GTE: _mixed_zones,
    exp.LT: _mixed_zones,
    exp.LTE: _mixed_zones,
    exp.Between: _mixed_zones,
    exp.Min: None,
    exp.Max: None,
}


def engine_refusal(
    tree: exp.Expr, target_dialect: str, engine_dialect: str, *, bytewise_text: bool = False
) -> str | None:
    """Why `tree` (qualified and typed) may not mean the same in the engine; None if it does.
    `bytewise_text`: the target orders text by its bytes (`BYTEWISE_TEXT`)."""
    pair = (target_dialect, engine_dialect)
    if pair not in SAME_SEMANTICS:
        return f"no same-semantics list for {target_dialect} computed on {engine_dialect}"
    listed = SAME_SEMANTICS[pair]
    if listed is None:
        return None
    if bytewise_text:
        listed = {**listed, **{k: v for k, v in BYTEWISE_TEXT.items() if k in listed}}
    for node in tree.walk():
        kind = type(node)
        if kind not in listed:
            return f"{kind.__name__} ({_snippet(node)}) is not on the same-semantics list"
        check = listed[kind]
        reason = check(node) if check is not None else None
        if reason:
            return f"{reason}: {_snippet(node)}"
    return None


def _snippet(node: exp.Expr) -> str:
    text = node.sql(dialect="postgres")
    return text if len(text) <= 80 else text[:77] + "..."


def _instant(node: exp.Expr | None) -> bool:
    """A timestamptz constant with its offset written out: the same instant in every zone."""
    return (
        isinstance(node, exp.Cast)
        and node.to.this == Type.TIMESTAMPTZ
        and isinstance(node.this, exp.Literal)
        and bool(_ISO_INSTANT.fullmatch(node.this.this))
    )


def _against_instants(node: exp.Expr, literals: bool) -> bool:
    """Whether `node` is compared only with instants: timestamptz constants, or also instant
    literals (`literals`)."""
    parent = node.parent
    if not isinstance(parent, _COMPARISONS):
        return False
    others = [o for o in parent.iter_expressions() if o is not node]
    return bool(others) and all(_instant(o) or (literals and _instant_literal(o)) for o in others)


def _portable_column(node: exp.Expr, literals: bool = False) -> str | None:
    """A column compared on its own database: exact for any type but those whose comparison
    depends on the session (a time zone, unless compared with instants) or pads (char(n)),
    and unknown ones."""
    kind = kind_of(node)
    if kind in _ZONED and _against_instants(node, literals):
        return None
    if kind is None or kind == Type.UNKNOWN or kind in _ZONED | _CHAR:
        return f"a column of type {kind}"
    return None


def _column_with_instants(node: exp.Expr) -> str | None:
    """`_portable_column`, a timestamptz compared with instant literals too."""
    return _portable_column(node, literals=True)


def _constant_cast(node: exp.Expr) -> str | None:
    """A folded constant: an ISO date or timestamp, or an instant."""
    assert isinstance(node, exp.Cast)
    literal = node.this
    if not isinstance(literal, exp.Literal) or not literal.is_string:
        return "a cast of a non-constant"
    if node.to.this in _LOCAL and _ISO_DATE.fullmatch(literal.this):
        return None
    return None if _instant(node) else f"the constant {node.sql()}"


def _negative_number(node: exp.Expr) -> str | None:
    """`-5`: a negated number literal is a constant (a negated column is arithmetic)."""
    if isinstance(node.this, exp.Literal) and node.this.is_number:
        return None
    return f"the negation {node.sql()}"


#: Predicates that mean the same on any source that reads the same values.
_PORTABLE: Mapping[type[exp.Expr], Check | None] = {
    exp.Column: _portable_column,
    exp.Literal: _zoneless_literal,
    exp.Null: None,
    exp.Boolean: None,
    exp.Paren: None,
    exp.Tuple: None,
    exp.And: None,
    exp.Or: None,
    exp.Not: None,
    exp.Is: None,
    exp.In: None,
    exp.EQ: None,
    exp.NEQ: None,
    exp.GT: _ordering,
    exp.GTE: _ordering,
    exp.LT: _ordering,
    exp.LTE: _ordering,
    exp.Between: _ordering,
    exp.Like: _like,
    exp.Cast: _constant_cast,
    exp.Neg: _negative_number,
    exp.DataType: None,
    exp.Identifier: None,
}
#: The same, on a source that reads a literal with a UTC offset as the target does.
_PORTABLE_WITH_INSTANTS: Mapping[type[exp.Expr], Check | None] = {
    **_PORTABLE,
    exp.Column: _column_with_instants,
    exp.Literal: _literal,
}


@dataclass(frozen=True)
class Reading:
    """How a source reads a predicate pushed into it, where databases differ (each connector's
    data, held against the node's target's)."""

    #: It compares text its own way (MySQL's case-insensitive, space-padding collations): no
    #: text comparison is pushed into it.
    folds_text: bool = False
    #: It reads a date or time literal with a UTC offset as the node's target does
    #: (`_instant_literal`): comparisons with one are pushed into it.
    reads_instants: bool = False


def portable_predicate(conjunct: exp.Expr, source: Reading) -> bool:
    """Whether a typed WHERE conjunct filters the same rows on its source as on the target:
    plain comparisons of columns with constants (and LIKE without escapes), never a function,
    a cast or arithmetic, no text ordering (collations differ), no text comparison at all
    where the source compares text its own way, and a literal with a UTC offset only where the
    source reads it as the target does."""
    listed = _PORTABLE_WITH_INSTANTS if source.reads_instants else _PORTABLE
    for node in conjunct.walk():
        kind = type(node)
        if kind not in listed:
            return False
        check = listed[kind]
        if check is not None and check(node):
            return False
        if source.folds_text and kind is exp.Column and kind_of(node) in _TEXT:
            return False
    return True
