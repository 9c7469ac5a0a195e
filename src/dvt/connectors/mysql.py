"""MySQL and MariaDB, source-only connections, read through DuckDB's mysql scanner: each read
runs as MySQL SQL on the server (`mysql_query`) and streams into the engine."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlglot.expressions as exp

from dvt.connectors.base import Connector
from dvt.connectors.postgres import quote_literal
from dvt.planning.models import RelationKey


class MySQLConnector(Connector):
    dialect = "mysql"
    writable = False

    @property
    def alias(self) -> str:
        return f"dvt_mysql_{self.spec.name}"

    def _attach(self) -> None:
        options = self.spec.options
        secret = {
            "HOST": options.get("host", "127.0.0.1"),
            "PORT": options.get("port", 3306),
            "USER": options.get("user") or options.get("username"),
            "PASSWORD": options.get("password") or options.get("pass") or "",
            "DATABASE": options.get("database") or options.get("schema"),
        }
        fields = ", ".join(
            f"{k} {quote_literal(str(v))}" for k, v in secret.items() if v is not None
        )
        self.session.engine.attach_once(
            self.alias,
            "mysql_scanner",
            [
                f"CREATE OR REPLACE SECRET {self.alias}_secret (TYPE mysql, {fields})",
                f"ATTACH '' AS {self.alias} (TYPE mysql, SECRET {self.alias}_secret, READ_ONLY)",
            ],
        )

    def table(self, key: RelationKey) -> exp.Table:
        # In MySQL a schema is a database: a source's `schema` names it.
        return exp.table_(key.name, db=key.schema, quoted=True)

    def _query(self, sql: str) -> str:
        self._attach()
        return f"SELECT * FROM mysql_query('{self.alias}', {quote_literal(sql)})"

    def columns(self, key: RelationKey) -> Sequence[tuple[str, str]]:
        sql = (
            "SELECT column_name, column_type FROM information_schema.columns "
            f"WHERE table_schema = {quote_literal(key.schema)} "
            f"AND table_name = {quote_literal(key.name)} "
            "ORDER BY ordinal_position"
        )
        return [
            (row[0], row[1]) for row in self.session.cursor.execute(self._query(sql)).fetchall()
        ]

    def scalar(self, sql: str) -> Any:
        row = self.session.cursor.execute(self._query(sql)).fetchone()
        return row[0] if row else None

    def stream(self, sql: str) -> Any:
        return self.session.engine_stream(self._query(sql))
