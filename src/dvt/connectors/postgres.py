"""PostgreSQL through DuckDB's postgres scanner: reads run as PostgreSQL SQL on the server
(`postgres_query`), the result is written with the scanner's COPY path."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlglot.expressions as exp

from dvt.connectors.base import Connector
from dvt.planning.models import RelationKey


def quote_literal(sql: str) -> str:
    return "'" + sql.replace("'", "''") + "'"


class PostgresConnector(Connector):
    dialect = "postgres"

    @property
    def alias(self) -> str:
        return f"dvt_pg_{self.spec.name}"

    def _attach(self) -> None:
        options = self.spec.options
        secret = {
            "HOST": options.get("host"),
            "PORT": options.get("port", 5432),
            "USER": options.get("user"),
            "PASSWORD": options.get("password") or options.get("pass") or "",
            "DATABASE": options.get("dbname") or options.get("database"),
        }
        fields = ", ".join(
            f"{k} {quote_literal(str(v))}" for k, v in secret.items() if v is not None
        )
        self.session.engine.attach_once(
            self.alias,
            "postgres_scanner",
            [
                f"CREATE OR REPLACE SECRET {self.alias}_secret (TYPE postgres, {fields})",
                f"ATTACH '' AS {self.alias} (TYPE postgres, SECRET {self.alias}_secret)",
            ],
        )

    def _engine_table(self, relation: RelationKey) -> str:
        """The relation in the engine's attached catalog of this target."""
        return exp.table_(relation.name, db=relation.schema, catalog=self.alias, quoted=True).sql(
            dialect="duckdb"
        )

    def table(self, key: RelationKey) -> exp.Table:
        # The connection is to the target's database: PostgreSQL names relations schema.table.
        return exp.table_(key.name, db=key.schema, quoted=True)

    def _query(self, sql: str) -> str:
        self._attach()
        return f"SELECT * FROM postgres_query('{self.alias}', {quote_literal(sql)})"

    def columns(self, key: RelationKey) -> Sequence[tuple[str, str]]:
        relation = self.table(key).sql(dialect="postgres")
        sql = (
            "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
            f"WHERE a.attrelid = {quote_literal(relation)}::regclass "
            "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum"
        )
        return [tuple(row) for row in self.session.cursor.execute(self._query(sql)).fetchall()]  # type: ignore[misc]

    def scalar(self, sql: str) -> Any:
        row = self.session.cursor.execute(self._query(sql)).fetchone()
        return row[0] if row else None

    def stream(self, sql: str) -> Any:
        return self.session.engine_stream(self._query(sql))

    def stage(self, engine_sql: str, relation: RelationKey) -> int:
        self._attach()
        cursor = self.session.cursor
        table = self._engine_table(relation)
        cursor.execute(f'CREATE SCHEMA IF NOT EXISTS {self.alias}."{relation.schema}"')
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
        (rows,) = cursor.execute(f"CREATE TABLE {table} AS {engine_sql}").fetchone()
        cursor.execute("CALL pg_clear_cache()")
        return int(rows)

    def drop_stage(self, relation: RelationKey) -> None:
        self._attach()
        self.session.cursor.execute(f"DROP TABLE IF EXISTS {self._engine_table(relation)}")
        self.session.cursor.execute("CALL pg_clear_cache()")
