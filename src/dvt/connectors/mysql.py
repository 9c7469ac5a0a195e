"""MySQL and MariaDB, source-only connections, read through DuckDB's mysql scanner: each read
runs as MySQL SQL on the server (`mysql_query`) and streams into the engine."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from dvt.connectors.base import AS_DOUBLE
from dvt.connectors.scanned import ScannedServerConnector
from dvt.planning.models import RelationKey
from dvt.quoting import quote_literal


class MySQLConnector(ScannedServerConnector):
    dialect = "mysql"
    lossy_types: ClassVar[Mapping[str, str]] = {
        r"decimal\((\d+)(?:,\d+)?\)(?: unsigned)?": AS_DOUBLE
    }
    extension = "mysql_scanner"
    scanner_type = "mysql"
    writable = False
    folds_text = True  # case-insensitive, PAD SPACE collations by default
    read_cost = 1.0

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

    def columns_sql(self, key: RelationKey) -> str:
        # In MySQL a schema is a database: a source's `schema` names it.
        return (
            "SELECT column_name, column_type FROM information_schema.columns "
            f"WHERE table_schema = {quote_literal(key.schema)} "
            f"AND table_name = {quote_literal(key.name)} ORDER BY ordinal_position"
        )
