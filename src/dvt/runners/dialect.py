"""A node written in another dialect than its target's: its compiled SQL, transpiled.

The input columns' types are read from each input's own database, as the federation planner
reads them (`FederationSession`), and given to `planning.transpile` in the written dialect."""

from __future__ import annotations

from typing import Any

from dvt import connectors, invocation
from dvt.exceptions import DialectError
from dvt.planning.models import RelationKey

#: Node types whose SQL runs on their target as a query (seeds and hooks have none to carry).
_TRANSPILED_TYPES = frozenset({"model", "snapshot", "test"})


def written_dialect(node: Any) -> str | None:
    """The dialect a node says its SQL is written in, when it differs from its target's."""
    written_in = node.config.get("dialect") if hasattr(node, "config") else None
    if written_in is None or str(node.resource_type) not in _TRANSPILED_TYPES:
        return None
    if getattr(node, "language", "sql") != "sql":
        return None
    from dvt.execution.session import model_dialect
    from dvt.planning.transpile import check_dialect

    written_in = check_dialect(written_in, f"{node.unique_id} ({node.original_file_path})")
    return None if written_in == model_dialect(invocation.get(), node) else written_in


def transpiled_sql(node: Any, manifest: Any, written_in: str) -> str:
    """The node's compiled SQL (in `written_in`) in its target's dialect."""
    from dvt.execution.session import FederationSession, model_dialect, plan_inputs, relations_in
    from dvt.planning.transpile import column_type, transpile

    dvt = invocation.get()
    target_dialect = model_dialect(dvt, node)
    referenced = relations_in(node.compiled_code, written_in)
    schemas: dict[RelationKey, list[tuple[str, str]]] = {}
    reader: Any = dvt.engine("duckdb")  # reads schemas: an embedded DuckDB, started once
    with FederationSession(dvt, reader, node) as session:
        for planned in plan_inputs(dvt, node, manifest):
            if planned.key not in referenced:
                continue
            read = connectors.for_target(dvt.targets[planned.target]).dialect
            try:
                found = session.connector(planned.target).columns(planned.key)
            except Exception as exc:
                reason = dvt.redact(next(iter(str(exc).splitlines()), type(exc).__name__))
                raise DialectError(
                    f"{node.unique_id} ({node.original_file_path}) is written in {written_in}: "
                    f"its SQL is typed over its inputs' columns, and {planned.unique_id} cannot "
                    f"be read on target {planned.target!r} ({reason}). Build it first."
                ) from exc
            schemas[planned.key] = [(c, column_type(t, read, written_in)) for c, t in found]
    return transpile(
        node.compiled_code,
        written_in,
        target_dialect,
        schemas,
        node=f"{node.unique_id} ({node.original_file_path})",
        target=dvt.resolve(node).target,
    )
