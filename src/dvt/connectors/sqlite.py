"""SQLite, a source-only connection, read through DuckDB's sqlite scanner (read-only attach).

The scanner runs inside the engine, so extraction SQL is DuckDB SQL over the attached file;
DuckDB pushes the projection into the scan.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import sqlglot.expressions as exp

from dvt.connectors.base import Connector
from dvt.exceptions import TargetUnavailableError
from dvt.planning.models import RelationKey
from dvt.quoting import quote_literal


class SQLiteConnector(Connector):
    dialect = "duckdb"
    writable = False

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
