"""`dvt plan` before anything is built: a federated node's inputs that do not exist yet are
planned from the columns the manifest knows (a seed's header and the types dbt would give its
first rows, a model's or snapshot's `columns:` when each has a `data_type`); without them, the
plan names every input to build first."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dbt.node_types import NodeType

from dvt.execution.session import FederationSession
from dvt.planning.models import FederationPlan, PlanInput

#: The column a plan gives an input it knows nothing of, so that every such input is named.
_PLACEHOLDER = [("dvt_unknown", "integer")]


class InputsNotBuiltError(Exception):
    """Inputs of a federated node that do not exist yet and whose columns the manifest does
    not declare."""

    def __init__(self, node: Any, missing: list[Any]) -> None:
        self.missing = missing
        names = ", ".join(f"{m.name} ({m.resource_type})" for m in missing)
        super().__init__(
            f"these inputs are not built yet and declare no column types: {names}; build them "
            f"first (dvt build --select +{node.name}) or declare their columns with data_type"
        )


class PlanningSession(FederationSession):
    """A federated node's session for `dvt plan`: an input that does not exist yet is planned
    from the manifest's columns, or named to be built first."""

    def __init__(self, dvt: Any, engine: Any, node: Any, manifest: Any) -> None:
        super().__init__(dvt, engine, node)
        self.manifest = manifest
        self.missing: list[Any] = []

    def plan(self, inputs: list[PlanInput], *args: Any, **kwargs: Any) -> FederationPlan:
        try:
            plan = super().plan(inputs, *args, **kwargs)
        except Exception:
            if self.missing:  # the placeholder columns did not plan: name the inputs instead
                raise InputsNotBuiltError(self.node, self.missing) from None
            raise
        if self.missing:
            raise InputsNotBuiltError(self.node, self.missing)
        return plan

    def _columns(self, plan_input: PlanInput) -> Sequence[tuple[str, str]]:
        """The input's columns on its database; for one not built yet (it has none there, and
        nothing is kept for the invocation), the manifest's, or a placeholder and the input
        named."""
        try:
            found = super()._columns(plan_input)
        except Exception:  # a relation that does not exist: DuckDB and PostgreSQL raise
            found = []
        if found:
            return found
        uid = plan_input.unique_id
        node = self.manifest.sources.get(uid) or self.manifest.nodes.get(uid)
        if node is None:
            return found
        declared = declared_columns(self.dvt, node, plan_input.target)
        if declared is None:
            self.missing.append(node)
            return _PLACEHOLDER
        return declared


def declared_columns(dvt: Any, node: Any, target: str) -> list[tuple[str, str]] | None:
    """(name, type) of a node's columns as the manifest knows them before it is built, in the
    target's types; None when it does not know them all."""
    if node.resource_type == NodeType.Seed:
        return _seed_columns(dvt, node, target)
    columns = list(getattr(node, "columns", {}).values())
    if columns and all(c.data_type for c in columns):
        return [(c.name, c.data_type) for c in columns]
    return None


def _seed_columns(dvt: Any, node: Any, target: str) -> list[tuple[str, str]]:
    """The seed's header, typed as dbt types its first rows (or by its `column_types`)."""
    from dvt.embedded import connect
    from dvt.seeds.inference import infer_head
    from dvt.seeds.reader import SeedCsv

    overrides = node.config.column_types or {}
    path = Path(node.root_path, node.original_file_path)
    seed = SeedCsv.open(path, node.original_file_path, node.config.delimiter)
    opened: list[Any] = []  # DuckDB only when the head is not plain CSV (as seeds do)

    def duckdb() -> Any:
        if not opened:
            opened.append(connect())
        return opened[0]

    try:
        table = infer_head(seed, overrides, duckdb).table(0)
    finally:
        for con in opened:
            con.close()
    adapter = dvt.pool.adapter_for(target)
    return [
        (name, overrides.get(name) or adapter.convert_type(table, i))
        for i, name in enumerate(table.column_names)
    ]
