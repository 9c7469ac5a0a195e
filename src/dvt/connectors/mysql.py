"""MySQL and MariaDB, source-only connections, read through DuckDB's mysql scanner: each read
runs as MySQL SQL on the server (`mysql_query`) and streams into the engine."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import sqlglot.expressions as exp

from dvt import events
from dvt.connectors.base import AS_DOUBLE
from dvt.connectors.scanned import ScannedServerConnector
from dvt.planning.models import (
    MISSING,
    VIEW,
    Estimates,
    Extraction,
    Relation,
    RelationKey,
    RowEstimate,
    unknown,
)
from dvt.quoting import quote_literal

if TYPE_CHECKING:
    from dvt.config.spec import TargetSpec


class MySQLConnector(ScannedServerConnector):
    dialect = "mysql"
    lossy_types: ClassVar[Mapping[str, str]] = {
        r"decimal\((\d+)(?:,\d+)?\)(?: unsigned)?": AS_DOUBLE
    }
    extension = "mysql_scanner"
    scanner_type = "mysql"
    writable = False
    folds_text = True  # case-insensitive, PAD SPACE collations by default
    #: MySQL 8 turns a literal's UTC offset into the session's time zone (MariaDB drops it):
    #: no comparison with an instant literal is pushed here.
    reads_instants = False
    read_cost = 1.0
    debug_sql = "SELECT * FROM mysql_query('src', 'SELECT 1')"

    @classmethod
    def estimates(
        cls,
        spec: TargetSpec,
        relations: Sequence[Relation],
        adapter_rows: Callable[[str], list[tuple[Any, ...]]],
    ) -> Estimates:
        """`information_schema.tables.table_rows`, kept by the storage engine."""
        from dvt.connectors.standalone import attached_source

        wanted = ", ".join(
            f"({quote_literal(r.schema)}, {quote_literal(r.name)})" for r in relations
        )
        sql = (
            "SELECT table_schema, table_name, table_type, table_rows "
            f"FROM information_schema.tables WHERE (table_schema, table_name) IN ({wanted})"
        )
        events.debug(f"Row estimates on target {spec.name!r}: {sql}")
        with attached_source(spec) as db:
            rows = db.execute(f"SELECT * FROM mysql_query('src', {quote_literal(sql)})").fetchall()
        found = {(s.lower(), n.lower()): (kind, count) for s, n, kind, count in rows}
        estimates = {}
        for relation in relations:
            key = (relation.schema.lower(), relation.name.lower())
            kind, count = found.get(key, (None, None))
            if kind is None:
                estimates[relation.unique_id] = MISSING
            elif kind == "VIEW":
                estimates[relation.unique_id] = VIEW
            elif count is None:
                estimates[relation.unique_id] = unknown("its storage engine keeps no row count")
            else:
                estimates[relation.unique_id] = RowEstimate(int(count), "estimate")
        return estimates

    def estimated_rows(self, key: RelationKey) -> int | None:
        found = self.server_row(
            "SELECT table_rows FROM information_schema.tables "
            f"WHERE table_schema = {quote_literal(key.schema)} "
            f"AND table_name = {quote_literal(key.name)}"
        )
        return int(found[0]) if found and found[0] is not None else None

    @staticmethod
    def secret(options: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "HOST": options.get("host", "127.0.0.1"),
            "PORT": options.get("port", 3306),
            "USER": options.get("user") or options.get("username"),
            "PASSWORD": options.get("password") or options.get("pass") or "",
            "DATABASE": options.get("database") or options.get("schema"),
        }

    @classmethod
    def import_type(cls, source_type: str, target_dialect: str) -> str | None:
        """`varchar(n)` keeps its length on a PostgreSQL target (the engine's VARCHAR has none)."""
        found = re.fullmatch(r"varchar\((\d+)\)", source_type.lower())
        if target_dialect == "postgres" and found:
            return f"character varying({found.group(1)})"
        return None

    def extraction_sql(self, extraction: Extraction, key: RelationKey) -> str:
        """The extraction in MySQL's SQL, each date-time constant cast with its microseconds
        (`_with_microseconds`)."""
        predicates = tuple(_with_microseconds(p.copy()) for p in extraction.predicates)
        read = dataclasses.replace(extraction, predicates=predicates)
        return read.render(self.table(key), self.dialect)

    def subquery_sql(self, select: exp.Select, key: RelationKey) -> str:
        return super().subquery_sql(_with_microseconds(select.copy()), key)

    def columns_sql(self, key: RelationKey) -> str:
        return _columns_sql(key)

    @classmethod
    def attached_columns(cls, db: Any, key: RelationKey) -> list[tuple[str, str, str]]:
        """MySQL's column types, and the engine's for what the scanner reads of them."""
        own = dict(
            db.execute(
                f"SELECT * FROM mysql_query('src', {quote_literal(_columns_sql(key))})"
            ).fetchall()
        )
        table = exp.table_(key.name, db=key.schema, quoted=True).sql(dialect="mysql")
        read = quote_literal(f"SELECT * FROM {table} LIMIT 0")
        found = db.execute(f"DESCRIBE SELECT * FROM mysql_query('src', {read})").fetchall()
        return [(row[0], row[1], own.get(row[0], row[1])) for row in found]


_Tree = TypeVar("_Tree", bound=exp.Expr)
_FRACTIONAL = {exp.DType.TIMESTAMP, exp.DType.DATETIME, exp.DType.TIME}


def _with_microseconds(tree: _Tree) -> _Tree:
    """`tree`, each cast to a timestamp or a time given six digits of seconds: MySQL's
    `CAST('2024-09-11 18:50:07.357282' AS DATETIME)` drops the fraction (DATETIME(0)), so a
    pushed `ts = timestamp '...'` would miss the row PostgreSQL finds."""
    for cast in tree.find_all(exp.Cast):
        if cast.to.this in _FRACTIONAL and not cast.to.expressions:
            six = exp.DataTypeParam(this=exp.Literal.number(6))
            cast.set("to", exp.DataType(this=cast.to.this, expressions=[six]))
    return tree


def _columns_sql(key: RelationKey) -> str:
    """MySQL SQL listing (name, type) of a relation's columns; a source's `schema` names its
    database (in MySQL a schema is a database)."""
    return (
        "SELECT column_name, column_type FROM information_schema.columns "
        f"WHERE table_schema = {quote_literal(key.schema)} "
        f"AND table_name = {quote_literal(key.name)} ORDER BY ordinal_position"
    )


CONNECTOR = MySQLConnector
