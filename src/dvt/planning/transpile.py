"""A model written in another dialect than its target's (`config(dialect='postgres')`), carried
over to the target's dialect by SQLGlot, only where it keeps its meaning (DESIGN.md section 8).

The compiled SQL is qualified and typed over its inputs' columns, and every construct must be on
the same-semantics list for (the dialect it is written in, the target's dialect): the list that
proves a PostgreSQL query computed in DuckDB gives PostgreSQL's values. The first construct that
is not is named, and nothing runs. Integer division keeps the meaning of the written dialect.
The result's column types are the target's own (a PostgreSQL `sum(int)` is a bigint, DuckDB's a
HUGEINT): values mean the same, types follow the database that stores them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import sqlglot
import sqlglot.expressions as exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ErrorLevel, OptimizeError, ParseError, SqlglotError
from sqlglot.optimizer.qualify import qualify

from dvt.exceptions import DialectError
from dvt.planning import numeric
from dvt.planning.models import RelationKey
from dvt.planning.planner import engine_spelling, schema_mapping
from dvt.planning.semantics import annotate, engine_refusal


def check_dialect(written_in: object, node: str) -> str:
    """The SQLGlot dialect a `dialect` config names; DVT109 when it names none."""
    if isinstance(written_in, str):
        try:
            Dialect.get_or_raise(written_in)
            return written_in
        except ValueError:
            pass
    raise DialectError(
        f"{node} sets `dialect: {written_in!r}`, which is no SQL dialect DVT can read. Use a "
        "dialect name such as postgres or duckdb."
    )


def transpile(
    sql: str,
    written_in: str,
    target_dialect: str,
    schemas: Mapping[RelationKey, Sequence[tuple[str, str]]],
    *,
    node: str,
    target: str,
) -> str:
    """`sql` (in `written_in`) as `target_dialect` SQL of the same meaning; `schemas` holds
    (column, type in `written_in`) of each relation it reads. DVT109 naming the construct
    when the meaning cannot be proven the same."""
    mapping = schema_mapping(schemas, written_in)
    where = (
        f"{node} is written in {written_in} (its `dialect` config) but runs on target {target!r}"
    )
    try:
        tree: exp.Expr = sqlglot.parse_one(sql, read=written_in)
        tree = qualify(
            tree,
            schema=mapping,
            dialect=written_in,
            quote_identifiers=False,
            validate_qualify_columns=False,
        )
        tree = annotate(tree, mapping, written_in)
    except (ParseError, OptimizeError) as exc:
        first = str(exc).splitlines()[0]
        raise DialectError(f"{where}, and SQLGlot cannot read its SQL: {first}") from exc
    refusal = engine_refusal(tree, written_in, target_dialect)
    if refusal:
        raise DialectError(
            f"{where} ({target_dialect}), and this construct is not proven to mean the same "
            f"there: {refusal}. Rewrite it in {target_dialect}, or write it another way."
        )
    quotient = next((n for n in tree.walk() if numeric.is_quotient(n)), None)
    if quotient is not None and written_in == "postgres":
        raise DialectError(
            f"{where} ({target_dialect}), and {quotient.sql(dialect=written_in)!r} is a "
            "numeric division, whose scale PostgreSQL chooses per value: DVT computes it "
            f"exactly only in its own engine. Rewrite it in {target_dialect}."
        )
    engine_spelling(tree, written_in)
    try:
        return tree.sql(dialect=target_dialect, pretty=True, unsupported_level=ErrorLevel.RAISE)
    except SqlglotError as exc:
        raise DialectError(
            f"{where}, and SQLGlot cannot write it in {target_dialect}: {exc}"
        ) from exc


def column_type(type_name: str, read: str, written_in: str) -> str:
    """A column type as its database names it, in the dialect the model is written in."""
    try:
        return exp.DataType.build(type_name, dialect=read).sql(dialect=written_in)
    except (ParseError, ValueError):
        return type_name
