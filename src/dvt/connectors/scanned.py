"""Servers DuckDB reaches through a scanner extension (PostgreSQL, MySQL): each read runs as the
server's own SQL (`<type>_query`), streamed into the engine; credentials go into a DuckDB secret,
never into SQL text that could be logged."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import sqlglot.expressions as exp

from dvt.connectors.base import Connector
from dvt.planning.models import RelationKey
from dvt.quoting import quote_literal


class ScannedServerConnector(Connector):
    """A server read (and maybe written) through a DuckDB scanner extension."""

    #: DuckDB extension, secret/attach TYPE, and the function that runs server-side SQL.
    extension: ClassVar[str]
    scanner_type: ClassVar[str]

    @property
    def alias(self) -> str:
        return f"dvt_{self.scanner_type}_{self.spec.name}"

    @staticmethod
    def secret(options: Mapping[str, Any]) -> dict[str, Any]:
        """HOST, PORT, USER, PASSWORD, DATABASE for the DuckDB secret."""
        raise NotImplementedError

    @classmethod
    def secret_fields(cls, options: Mapping[str, Any]) -> str:
        """The body of `CREATE SECRET (TYPE <type>, ...)` for an output's options."""
        secret = cls.secret(options)
        return ", ".join(f"{k} {quote_literal(str(v))}" for k, v in secret.items() if v is not None)

    def columns_sql(self, key: RelationKey) -> str:
        """Server SQL listing (name, type) of a relation's columns, in order."""
        raise NotImplementedError

    def connection_options(self) -> str:
        """Extra connection-string options for the attach (none by default)."""
        return ""

    def on_attach(self) -> None:
        """Called once, after the first attach of this target in the invocation."""

    @classmethod
    def attach_statements(
        cls, options: Mapping[str, Any], alias: str, connection: str = "", writable: bool = False
    ) -> list[str]:
        """The engine SQL attaching the server as `alias`, through a secret of its own (the
        statements hold credentials: they are never logged)."""
        secret, kind = f"{alias}_secret", cls.scanner_type
        mode = "" if writable else ", READ_ONLY"
        return [
            f"CREATE OR REPLACE SECRET {secret} (TYPE {kind}, {cls.secret_fields(options)})",
            f"ATTACH '{connection}' AS {alias} (TYPE {kind}, SECRET {secret}{mode})",
        ]

    def _attach(self) -> None:
        statements = self.attach_statements(
            self.spec.options, self.alias, self.connection_options(), self.writable
        )
        self.session.engine.attach_once(
            self.alias, self.extension, statements, on_attach=self.on_attach
        )

    def warm_up(self, loads: bool) -> None:
        self._attach()

    def table(self, key: RelationKey) -> exp.Table:
        # The connection is to one database: relations are named schema.table.
        return exp.table_(key.name, db=key.schema, quoted=True)

    def server_query(self, sql: str) -> str:
        """Engine SQL that runs `sql` on the server."""
        self._attach()
        return f"SELECT * FROM {self.scanner_type}_query('{self.alias}', {quote_literal(sql)})"

    def columns(self, key: RelationKey) -> Sequence[tuple[str, str]]:
        rows = self.session.cursor.execute(self.server_query(self.columns_sql(key))).fetchall()
        return [(row[0], row[1]) for row in rows]

    def server_row(self, sql: str) -> tuple[Any, ...] | None:
        """The first row of server SQL. The result is read to its end: one left half-read keeps
        the server's transaction, and its locks, open (a later rename of the stage would wait)."""
        found = self.rows(sql)
        return found[0] if found else None

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.session.cursor.execute(self.server_query(sql)).fetchall()]

    def engine_query(self, sql: str) -> str | None:
        return self.server_query(sql)

    def stream(self, sql: str) -> Any:
        return self.session.engine_stream(self.server_query(sql))
