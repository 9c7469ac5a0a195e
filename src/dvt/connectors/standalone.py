"""A source-only target opened outside a federated node: an in-memory DuckDB with the database
attached as `src`, for `dvt plan --estimate` and `dvt debug`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from dvt.quoting import quote_literal

if TYPE_CHECKING:
    from dvt.config.spec import TargetSpec


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
