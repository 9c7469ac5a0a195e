"""A source-only target opened outside a federated node: an in-memory DuckDB with the database
attached as `src`, for `dvt plan --estimate`, `dvt debug` and the columns of its relations (a
unit test's fixtures are typed with them)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from dvt.quoting import quote_literal

if TYPE_CHECKING:
    from dvt.config.spec import TargetSpec
    from dvt.planning.models import RelationKey


@contextlib.contextmanager
def attached_source(spec: TargetSpec) -> Iterator[Any]:
    """A DuckDB connection with the target's database attached, read-only, as `src`, with the
    extension and statements its connector attaches it with."""
    from dvt import connectors
    from dvt.embedded import connect, extension_path

    connector = connectors.for_target(spec)
    if connector.extension is None:
        raise ValueError(f"{spec.type} is not read through a DuckDB scanner")
    connection = connect()
    try:
        connection.execute(f"LOAD {quote_literal(str(extension_path(connector.extension)))}")
        for statement in connector.attach_statements(spec.options, "src"):
            connection.execute(statement)
        yield connection
    finally:
        connection.close()


def import_columns(spec: TargetSpec, key: RelationKey, dialect: str) -> list[tuple[str, str]]:
    """(name, type) of each column of a relation of a source-only target, as an import of it
    is typed on a target of `dialect`: the engine's type of what the scanner reads, in that
    dialect, or the connector's own where the engine's drops part of it (a length)."""
    from dvt import connectors
    from dvt.planning.transpile import column_type

    connector = connectors.for_target(spec)
    with attached_source(spec) as db:
        found = connector.attached_columns(db, key)

    def typed(engine: str, own: str) -> str:
        kept = connector.import_type(own, dialect)
        if kept is not None:
            return kept
        return engine if dialect == "duckdb" else column_type(engine, "duckdb", dialect)

    return [(name, typed(engine, own)) for name, engine, own in found]
