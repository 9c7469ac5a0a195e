"""`dvt plan` (alias `dvt explain`): how each selected node will run, before anything runs."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from dbt.node_types import NodeType
from dbt.task.list import ListTask
from dbt_common.events.functions import fire_event
from dbt_common.events.types import PrintEvent

from dvt import invocation
from dvt.resolution.models import NodeResolution

PLANNED_TYPES = (NodeType.Seed, NodeType.Model, NodeType.Snapshot, NodeType.Test)


def plan_line(rows: Iterable[tuple[Any, NodeResolution]]) -> str:
    """`Build plan: 3 seeds, 10 models (7 pushdown, 3 federation), 15 tests, 2 snapshots`.

    Ephemeral models are left out: dbt inlines them, nothing runs for them.
    """
    ran = [(n, r) for n, r in rows if n.resource_type in PLANNED_TYPES and not n.is_ephemeral_model]
    counts = Counter(str(n.resource_type) for n, _ in ran)
    federated = sum(1 for n, r in ran if n.resource_type == NodeType.Model and r.is_federated)
    models = counts[NodeType.Model]
    return (
        f"Build plan: {counts[NodeType.Seed]} seeds, {models} models "
        f"({models - federated} pushdown, {federated} federation), "
        f"{counts[NodeType.Test]} tests, {counts[NodeType.Snapshot]} snapshots"
    )


class DvtPlanTask(ListTask):
    """Resolves the selection and prints target, path, inputs and compute for each node."""

    @property
    def resource_types(self) -> list[NodeType]:
        return [t for t in super().resource_types if t in PLANNED_TYPES]

    def planned(self) -> Iterator[tuple[Any, NodeResolution]]:
        assert self.manifest is not None
        dvt = invocation.current(self.config, self.manifest)
        for node in self._iterate_selected_nodes():
            if node.resource_type in PLANNED_TYPES:
                yield node, dvt.resolve(node)

    def run(self) -> list[str]:  # type: ignore[override]
        self.compile_manifest()
        rows = list(self.planned())
        federated = {n.unique_id: self._federation_sql(n, r) for n, r in rows if r.is_federated}
        if self.args.output == "json":
            lines = [
                json.dumps(
                    {
                        "unique_id": n.unique_id,
                        "resource_type": str(n.resource_type),
                        **r.to_dict(),
                        **federated.get(n.unique_id, {}),
                    }
                )
                for n, r in rows
            ]
        else:
            lines = self._text(rows) + self._sql_text(rows, federated)
        return self.output_results(lines)

    def _federation_sql(self, node: Any, resolution: NodeResolution) -> dict[str, Any]:
        """Compile a federated model on its target and plan it: the SQL each database runs."""
        from dbt.compilation import Compiler

        from dvt.dbt_seams.factory import active_adapter
        from dvt.engines.duckdb import DuckDBEngine
        from dvt.runners.session import DIALECTS, FederationSession, plan_inputs

        if node.resource_type != NodeType.Model:
            return {}
        assert self.manifest is not None
        dvt = invocation.current(self.config, self.manifest)
        config = dvt.pool.config_for(resolution.target)
        adapter = dvt.pool.adapter_for(resolution.target)
        try:
            with active_adapter(adapter), adapter.connection_named(f"plan.{node.unique_id}"):
                compiled = Compiler(config).compile_node(node, self.manifest, {}, write=False)
                engine = dvt.engine(resolution.compute or dvt.computes.default)
                assert isinstance(engine, DuckDBEngine)
                with FederationSession(dvt, engine, compiled) as session:
                    dialect = DIALECTS[dvt.targets[resolution.target].type]
                    plan = session.plan(plan_inputs(dvt, compiled, self.manifest), dialect)
        except Exception as exc:
            return {"plan_error": dvt.redact(str(exc).splitlines()[0])}
        return {
            "extractions": [
                {"input": e.input.unique_id, "target": e.input.target, "sql": e.sql}
                for e in plan.extractions
            ],
            "engine_sql": plan.engine_sql,
        }

    @staticmethod
    def _sql_text(rows: list[tuple[Any, NodeResolution]], federated: dict[str, Any]) -> list[str]:
        lines: list[str] = []
        for node, resolution in rows:
            sql = federated.get(node.unique_id)
            if not sql:
                continue
            lines += ["", f"{node.name}: federation on {resolution.compute} -> {resolution.target}"]
            if "plan_error" in sql:
                lines.append(f"  cannot plan its SQL yet: {sql['plan_error']}")
                continue
            for extraction in sql["extractions"]:
                lines.append(f"  read {extraction['target']}: {extraction['sql']}")
            lines.append(f"  engine: {sql['engine_sql']}")
        return lines

    @staticmethod
    def _text(rows: list[tuple[Any, NodeResolution]]) -> list[str]:
        table = [("node", "type", "target", "path", "reads", "compute")]
        for node, res in rows:
            reads = ", ".join(res.input_targets) or "-"
            table.append(
                (
                    node.name,
                    str(node.resource_type),
                    res.target,
                    res.label,
                    reads,
                    res.compute or "-",
                )
            )
        widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
        body = [
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            for row in table
        ]
        return [plan_line(rows), "", *body]

    def output_results(self, results: list[str]) -> list[str]:  # type: ignore[override]
        for line in results:
            self.node_results.append(line)  # type: ignore[arg-type]
            fire_event(PrintEvent(msg=line))
        return results
