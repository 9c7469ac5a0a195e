"""A source-only target (SQLite, MySQL) opened outside a federated node: an in-memory DuckDB with
the database attached as `src`, for `dvt plan --estimate` and `dvt debug`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from dvt.quoting import quote_literal

if TYPE_CHECKING:
    from dvt.config.targets import TargetSpec


def sqlite_path(spec: TargetSpec) -> str:
    return str(spec.options.get("path") or spec.options.get("database") or "")


@contextlib.contextmanager
def attached_source(spec: TargetSpec) -> Iterator[Any]:
    """A DuckDB connection with the target's database attached, read-only, as `src`. The
    statements may hold secrets: they are never logged."""
    from dvt.engines.duckdb import connect, extension_path

    if spec.type == "sqlite":
        extension = "sqlite_scanner"
        statements = [f"ATTACH {quote_literal(sqlite_path(spec))} AS src (TYPE sqlite, READ_ONLY)"]
    elif spec.type == "mysql":
        from dvt.connectors.mysql import MySQLConnector

        extension = "mysql_scanner"
        fields = MySQLConnector.secret_fields(spec.options)
        statements = [
            f"CREATE SECRET dvt_src (TYPE mysql, {fields})",
            "ATTACH '' AS src (TYPE mysql, SECRET dvt_src, READ_ONLY)",
        ]
    else:
        raise ValueError(f"{spec.type} is not a source-only target type")
    connection = connect()
    try:
        connection.execute(f"LOAD {quote_literal(str(extension_path(extension)))}")
        for statement in statements:
            connection.execute(statement)
        yield connection
    finally:
        connection.close()
