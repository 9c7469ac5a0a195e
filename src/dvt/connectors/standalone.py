"""A source-only target (SQLite, MySQL) opened outside a federated node: an in-memory DuckDB with
the database attached as `src`, for `dvt plan --estimate` and `dvt debug`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from dvt.quoting import quote_literal

if TYPE_CHECKING:
    from dvt.config.targets import TargetSpec


@contextlib.contextmanager
def attached_source(spec: TargetSpec) -> Iterator[Any]:
    """A DuckDB connection with the target's database attached, read-only, as `src`, with the
    statements its connector attaches it with."""
    from dvt.engines.duckdb import connect, extension_path

    if spec.type == "sqlite":
        from dvt.connectors.sqlite import SQLiteConnector

        extension = SQLiteConnector.extension
        statements = SQLiteConnector.attach_statements(spec.options, "src")
    elif spec.type == "mysql":
        from dvt.connectors.mysql import MySQLConnector

        extension = MySQLConnector.extension
        statements = MySQLConnector.attach_statements(spec.options, "src")
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
