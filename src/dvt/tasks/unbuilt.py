"""`dvt plan` before anything is built: a federated node's inputs that do not exist yet are
planned from the columns the manifest knows (a seed's header and the types dbt would give its
first rows, a model's or snapshot's `columns:` when each has a `data_type`); without them, the
plan names every input to build first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dbt.node_types import NodeType

from dvt.execution.session import FederationSession
from dvt.planning.models import FederationPlan, PlanInput, RelationKey

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
    """A federated node's session for `dvt plan`, whose connectors fall back to the manifest's
    columns (`DeclaredColumns`)."""

    def __init__(self, dvt: Any, engine: Any, node: Any, manifest: Any) -> None:
        super().__init__(dvt, engine, node)
        self.manifest = manifest
        self.input_ids: dict[RelationKey, str] = {}
        self.missing: list[Any] = []

    def plan(self, inputs: list[PlanInput], *args: Any, **kwargs: Any) -> FederationPlan:
        self.input_ids = {i.key: i.unique_id for i in inputs}
        try:
            plan = super().plan(inputs, *args, **kwargs)
        except Exception:
            if self.missing:  # the placeholder columns did not plan: name the inputs instead
                raise InputsNotBuiltError(self.node, self.missing) from None
            raise
        if self.missing:
            raise InputsNotBuiltError(self.node, self.missing)
        return plan

    def connector(self, target: str) -> Any:
        return DeclaredColumns(super().connector(target), self, target)


class DeclaredColumns:
    """A connector whose `columns` of a relation that does not exist yet are the manifest's."""

    def __init__(self, connector: Any, session: PlanningSession, target: str) -> None:
        self._connector = connector
        self._session = session
        self._target = target

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connector, name)

    def columns(self, key: RelationKey) -> Any:
        try:
            found = self._connector.columns(key)
        except Exception:  # DuckDB raises for a missing relation; the others return no rows
            found = []
        if found:
            return found
        session = self._session
        unique_id = session.input_ids.get(key, "")
        manifest = session.manifest
        node = manifest.sources.get(unique_id) or manifest.nodes.get(unique_id)
        if node is None:
            return found
        declared = declared_columns(session.dvt, node, self._target)
        if declared is None:
            session.missing.append(node)
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
    con = connect()
    try:
        table = infer_head(seed, overrides, lambda: con).table(0)
    finally:
        con.close()
    adapter = dvt.pool.adapter_for(target)
    return [
        (name, overrides.get(name) or adapter.convert_type(table, i))
        for i, name in enumerate(table.column_names)
    ]
