"""SQLite, a source-only connection, read through DuckDB's sqlite scanner (read-only attach).

The scanner runs inside the engine, so extraction SQL is DuckDB SQL over the attached file;
DuckDB pushes the projection into the scan.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import sqlglot.expressions as exp

from dvt import events
from dvt.connectors.base import Connector
from dvt.exceptions import TargetUnavailableError
from dvt.planning.models import (
    MISSING,
    VIEW,
    Estimates,
    Relation,
    RelationKey,
    RowEstimate,
    unknown,
)
from dvt.quoting import quote_literal

if TYPE_CHECKING:
    from dvt.config.spec import TargetSpec


class SQLiteConnector(Connector):
    dialect = "duckdb"
    #: The engine filters the scanner's rows (DuckDB's values, as the import has them): the
    #: scanner pushes no filter into SQLite, whose text comparison would read no instant.
    reads_instants = True
    writable = False
    required_option = (
        ("path", "database"),
        "the SQLite database file to read (absolute, or relative to the folder dvt runs in)",
    )
    debug_sql = "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'src'"

    @classmethod
    def estimates(
        cls,
        spec: TargetSpec,
        relations: Sequence[Relation],
        adapter_rows: Callable[[str], list[tuple[Any, ...]]],
    ) -> Estimates:
        """SQLite keeps no statistics unless ANALYZE ran: its tables are counted."""
        from dvt.connectors.standalone import attached_source

        if not os.path.isfile(cls.path(spec.options)):
            return {r.unique_id: unknown("the SQLite file does not exist") for r in relations}
        listed = (
            "select lower(table_name), 'table' from duckdb_tables() where database_name = 'src' "
            "union all select lower(view_name), 'view' from duckdb_views() "
            "where database_name = 'src'"
        )
        estimates = {}
        with attached_source(spec) as db:
            kinds = dict(db.execute(listed).fetchall())
            for relation in relations:
                kind = kinds.get(relation.name.lower())
                if kind is None:
                    estimates[relation.unique_id] = MISSING
                elif kind == "view":
                    estimates[relation.unique_id] = VIEW
                else:
                    table = exp.to_identifier(relation.name, quoted=True).sql(dialect="duckdb")
                    sql = f"select count(*) from src.{table}"
                    events.debug(f"Row estimate on target {spec.name!r}: {sql}")
                    (count,) = db.execute(sql).fetchone()
                    note = "counted: SQLite keeps no statistics"
                    estimates[relation.unique_id] = RowEstimate(int(count), "exact", note)
        return estimates

    @property
    def alias(self) -> str:
        return f"dvt_sqlite_{self.spec.name}"

    extension = "sqlite_scanner"

    @staticmethod
    def path(options: Mapping[str, Any]) -> str:
        return str(options.get("path") or options.get("database") or "")

    @classmethod
    def attach_statements(cls, options: Mapping[str, Any], alias: str) -> list[str]:
        """The engine SQL attaching the file, read-only, as `alias`."""
        return [f"ATTACH {quote_literal(cls.path(options))} AS {alias} (TYPE sqlite, READ_ONLY)"]

    def _attach(self) -> None:
        path = self.path(self.spec.options)
        if not os.path.isfile(path):
            raise TargetUnavailableError(
                f"Target {self.spec.name!r}: SQLite file {path!r} does not exist."
            )
        self.session.engine.attach_once(
            self.alias, self.extension, self.attach_statements(self.spec.options, self.alias)
        )

    def table(self, key: RelationKey) -> exp.Table:
        # SQLite has one schema per file; dbt renders the source's schema, which is ignored.
        return exp.table_(key.name, db=self.alias, quoted=True)

    @classmethod
    def attached_columns(cls, db: Any, key: RelationKey) -> list[tuple[str, str, str]]:
        """The scanner's types: DuckDB's, as the engine reads the file."""
        table = exp.to_identifier(key.name, quoted=True).sql(dialect="duckdb")
        return [(row[0], row[1], row[1]) for row in db.execute(f"DESCRIBE src.{table}").fetchall()]

    def columns(self, key: RelationKey) -> Sequence[tuple[str, str]]:
        self._attach()
        rows = self.session.cursor.execute(
            f"DESCRIBE {self.table(key).sql(dialect='duckdb')}"
        ).fetchall()
        return [(row[0], row[1]) for row in rows]

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        self._attach()
        return [tuple(row) for row in self.session.cursor.execute(sql).fetchall()]

    def engine_query(self, sql: str) -> str | None:
        self._attach()
        return sql

    def stream(self, sql: str) -> Any:
        self._attach()
        return self.session.engine_stream(sql)


CONNECTOR = SQLiteConnector
