"""`dvt plan` (alias `dvt explain`): how each selected node will run, before anything runs."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from dbt.node_types import NodeType
from dbt.task.list import ListTask
from dbt_common.events.functions import fire_event
from dbt_common.events.types import PrintEvent

from dvt import engines, events, invocation
from dvt.execution.imports import share_imports
from dvt.resolution.models import NodeResolution

if TYPE_CHECKING:
    from dvt.planning.models import Relation, RowEstimate

PLANNED_TYPES = (NodeType.Seed, NodeType.Model, NodeType.Snapshot, NodeType.Test)


def plan_counts(rows: Iterable[tuple[Any, NodeResolution]]) -> events.PlanCounts:
    """What a build of these nodes runs, by type.

    Ephemeral models are counted apart: dbt inlines them, nothing runs for them.
    """
    rows = [(n, r) for n, r in rows if n.resource_type in PLANNED_TYPES]
    ran = [(n, r) for n, r in rows if not n.is_ephemeral_model]
    counts = Counter(str(n.resource_type) for n, _ in ran)
    federated = sum(1 for n, r in ran if n.resource_type == NodeType.Model and r.is_federated)
    return events.PlanCounts(
        seeds=counts[NodeType.Seed],
        models=counts[NodeType.Model],
        federated_models=federated,
        tests=counts[NodeType.Test],
        snapshots=counts[NodeType.Snapshot],
        ephemeral_models=len(rows) - len(ran),
    )


def path_label(node: Any, resolution: NodeResolution) -> str:
    """The node's path as the plan shows it: `ephemeral` for a model dbt inlines."""
    return "ephemeral" if node.is_ephemeral_model else resolution.label


def plan_line(rows: Iterable[tuple[Any, NodeResolution]]) -> str:
    """`Build plan: 3 seeds, 10 models (7 pushdown, 3 federation), 15 tests, 2 snapshots`."""
    return str(plan_counts(rows))


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
        assert self.manifest is not None
        dvt = invocation.current(self.config, self.manifest)
        # Which reads the selected nodes would share, as a run of them would (nothing loads).
        share_imports(dvt, [n.unique_id for n, _ in rows])
        try:
            federated = {
                n.unique_id: self._federation_sql(n, r)
                for n, r in rows
                if r.is_federated and not n.is_ephemeral_model
            }
        finally:
            dvt.shared_imports = None
        dialects = {n.unique_id: d for n, r in rows if (d := self._dialect_sql(n, r))}
        estimates = self._estimates(rows) if getattr(self.args, "estimate", False) else None
        if self.args.output == "json":
            lines = [
                json.dumps(
                    {
                        "unique_id": n.unique_id,
                        "resource_type": str(n.resource_type),
                        **r.to_dict(),
                        "path": path_label(n, r),
                        **federated.get(n.unique_id, {}),
                        **({"dialect": dialects[n.unique_id]} if n.unique_id in dialects else {}),
                        **self._inputs_json(r, estimates),
                    }
                )
                for n, r in rows
            ]
        else:
            lines = self._text(rows, federated) + self._dialect_text(rows, dialects)
            lines += self._sql_text(rows, federated)
            lines += self._estimates_text(rows, estimates)
        return self.output_results(lines)

    def _dependency(self, unique_id: str) -> Any:
        assert self.manifest is not None
        return self.manifest.sources.get(unique_id) or self.manifest.nodes[unique_id]

    def _estimates(self, rows: list[tuple[Any, NodeResolution]]) -> dict[str, RowEstimate]:
        """Rows of every input of the plan, from each database's statistics (one query per
        target); asked only with `--estimate`, so a plain plan stays cheap."""
        from dvt.planning.models import Relation

        assert self.manifest is not None
        dvt = invocation.current(self.config, self.manifest)
        by_target: dict[str, dict[str, Relation]] = {}
        for _, resolution in rows:
            for unique_id, target in resolution.inputs:
                dependency = self._dependency(unique_id)
                by_target.setdefault(target, {})[unique_id] = Relation(
                    unique_id, dependency.database, dependency.schema, dependency.identifier
                )
        estimates: dict[str, RowEstimate] = {}
        for target, relations in sorted(by_target.items()):
            estimates.update(_estimate_rows(dvt, target, list(relations.values())))
        return estimates

    @staticmethod
    def _inputs_json(
        resolution: NodeResolution, estimates: dict[str, RowEstimate] | None
    ) -> dict[str, Any]:
        if estimates is None:
            return {}
        inputs = [
            {"unique_id": unique_id, "target": target, **estimates[unique_id].to_dict()}
            for unique_id, target in resolution.inputs
        ]
        return {"inputs": inputs}

    def _estimates_text(
        self, rows: list[tuple[Any, NodeResolution]], estimates: dict[str, RowEstimate] | None
    ) -> list[str]:
        if estimates is None:
            return []
        lines = ["", "Input rows (from each database's statistics; `exact` ones were counted):"]
        for node, resolution in rows:
            if resolution.inputs:
                lines.append(f"  {node.name}")
            for unique_id, target in resolution.inputs:
                dependency = self._dependency(unique_id)
                source = getattr(dependency, "source_name", None)
                name = f"{source}.{dependency.name}" if source else dependency.name
                lines.append(f"    {name} on {target}: {estimates[unique_id]}")
        return lines

    def _dialect_sql(self, node: Any, resolution: NodeResolution) -> dict[str, Any] | None:
        """A model written in another dialect than its target's: its SQL as written and as
        its target runs it (or why it cannot)."""
        from dbt.compilation import Compiler

        from dvt.dbt_seams.factory import active_adapter
        from dvt.runners.dialect import transpiled_sql, written_dialect

        if node.resource_type != NodeType.Model or node.is_ephemeral_model:
            return None
        assert self.manifest is not None
        dvt = invocation.current(self.config, self.manifest)
        written_in = written_dialect(node)
        if written_in is None:
            return None
        adapter = dvt.pool.adapter_for(resolution.target)
        shown: dict[str, Any] = {"written_in": written_in}
        try:
            with active_adapter(adapter), adapter.connection_named(f"plan.{node.unique_id}"):
                config = dvt.pool.config_for(resolution.target)
                compiled = Compiler(config).compile_node(node, self.manifest, {}, write=False)
                shown["written_sql"] = compiled.compiled_code
                shown["target_sql"] = transpiled_sql(compiled, self.manifest, written_in)
        except Exception as exc:
            shown["error"] = dvt.redact(next(iter(str(exc).splitlines()), type(exc).__name__))
        return shown

    @staticmethod
    def _dialect_text(
        rows: list[tuple[Any, NodeResolution]], dialects: dict[str, dict[str, Any]]
    ) -> list[str]:
        lines: list[str] = []
        for node, resolution in rows:
            shown = dialects.get(node.unique_id)
            if not shown:
                continue
            lines += [
                "",
                f"{node.name}: written in {shown['written_in']}, runs on {resolution.target}",
            ]
            if "written_sql" in shown:
                lines.append(f"  written: {' '.join(shown['written_sql'].split())}")
            if "error" in shown:
                lines.append(f"  cannot run there: {shown['error']}")
            else:
                lines.append(f"  runs as: {' '.join(shown['target_sql'].split())}")
        return lines

    def _federation_sql(self, node: Any, resolution: NodeResolution) -> dict[str, Any]:
        """Compile a federated model on its target and plan it: the SQL each database runs."""
        if node.resource_type != NodeType.Model:
            return {}
        from dvt.dbt_seams.compiler import DvtCompiler
        from dvt.dbt_seams.factory import active_adapter
        from dvt.engines.duckdb import DuckDBEngine
        from dvt.execution.node import FederatedNode
        from dvt.execution.session import plan_inputs
        from dvt.runners.federation import refuse_python
        from dvt.tasks.unbuilt import InputsNotBuiltError, PlanningSession

        assert self.manifest is not None
        dvt = invocation.current(self.config, self.manifest)
        config = dvt.pool.config_for(resolution.target)
        adapter = dvt.pool.adapter_for(resolution.target)
        try:
            refuse_python(node, resolution)
            with active_adapter(adapter), adapter.connection_named(f"plan.{node.unique_id}"):
                compiled = DvtCompiler(config).compile_node(node, self.manifest, {}, write=False)
                compute = resolution.compute or dvt.computes.default
                spec = dvt.computes.require(compute, used_by=node.unique_id)
                reader = dvt.engine("duckdb")  # reads schemas; Spark need not start to plan
                assert isinstance(reader, DuckDBEngine)
                with PlanningSession(dvt, reader, compiled, self.manifest) as session:
                    work = FederatedNode(
                        session,
                        resolution,
                        engines.dialect(spec.type),
                        None,
                        schema="",
                        final=False,
                    )
                    plan, choice = work.decide(plan_inputs(dvt, compiled, self.manifest))
                    planned = work.planned_imports() if choice.placement == "target" else ()
                    wide = [work.shared_read(e) for e in planned]
                    reads = [(w or e, w is not None) for e, w in zip(planned, wide, strict=True)]
        except InputsNotBuiltError as exc:
            return {"plan_error": str(exc), "unbuilt_inputs": [m.unique_id for m in exc.missing]}
        except Exception as exc:
            first_line = next(iter(str(exc).splitlines()), type(exc).__name__)
            return {"plan_error": dvt.redact(first_line)}
        engine = choice.placement == "engine"
        return {
            "placement": choice.to_dict(),
            "extractions": [
                {
                    "input": e.input.unique_id,
                    "target": e.input.target,
                    "sql": e.sql,
                    **({"shared": True} if shared else {}),
                }
                for e, shared in ([(e, False) for e in work.engine_reads()] if engine else reads)
            ],
            "engine_sql": plan.engine_sql if engine else None,
        }

    @staticmethod
    def _sql_text(rows: list[tuple[Any, NodeResolution]], federated: dict[str, Any]) -> list[str]:
        lines: list[str] = []
        for node, resolution in rows:
            sql = federated.get(node.unique_id)
            if not sql:
                continue
            if "plan_error" in sql:
                lines += ["", f"{node.name}: federation -> {resolution.target}"]
                lines.append(f"  cannot plan its SQL: {sql['plan_error']}")
                continue
            choice = sql["placement"]
            where = (
                f"in the engine ({resolution.compute})"
                if choice["placement"] == "engine"
                else f"on {resolution.target}"
            )
            lines += ["", f"{node.name}: federation -> {resolution.target}, computed {where}"]
            lines.append(f"  why: {choice['reason']}")
            if choice["rows_imported"] is not None:
                lines.append(
                    f"  rows moved: ~{choice['rows_imported']:,} imported on the target, "
                    f"~{choice['rows_engine']:,} through the engine"
                )
            verb = "read" if choice["placement"] == "engine" else "import"
            for extraction in sql["extractions"]:
                shared = " (shared, every column named)" if extraction.get("shared") else ""
                lines.append(f"  {verb} from {extraction['target']}{shared}: {extraction['sql']}")
            if sql["engine_sql"]:
                lines.append(f"  engine: {sql['engine_sql']}")
            else:
                lines.append(f"  then the model's own SQL runs on {resolution.target}")
        return lines

    @staticmethod
    def _text(rows: list[tuple[Any, NodeResolution]], federated: dict[str, Any]) -> list[str]:
        table = [("node", "type", "target", "path", "reads", "computed")]
        for node, res in rows:
            reads = ", ".join(res.input_targets) or "-"
            table.append(
                (
                    node.name,
                    str(node.resource_type),
                    res.target,
                    path_label(node, res),
                    reads,
                    _computed(node, res, federated.get(node.unique_id)),
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


def _computed(node: Any, resolution: NodeResolution, federated: dict[str, Any] | None) -> str:
    """Where a node's SQL runs, as its detail line says it: on its target, or in the engine
    (a federated node not planned yet: the engine it would use)."""
    if node.is_ephemeral_model:
        return "-"
    choice = (federated or {}).get("placement")
    if choice is not None and choice["placement"] == "target":
        return f"on {resolution.target}"
    return resolution.compute or f"on {resolution.target}"


def _estimate_rows(dvt: Any, target: str, relations: list[Relation]) -> dict[str, RowEstimate]:
    """Estimates of `relations` (all on `target`) by unique_id, from the database's own
    statistics (each connector reads its own), in one round trip. A relation that does not
    exist yet, a view, or a target that cannot answer gives `unknown` with the reason: an
    estimate never fails the plan."""
    from dvt import connectors
    from dvt.planning.models import unknown

    spec = dvt.targets[target]
    events.debug(f"Reading row statistics of {len(relations)} relation(s) on target {target!r}")
    try:
        connector = connectors.for_target(spec)
        return connector.estimates(spec, relations, lambda sql: _adapter_rows(dvt, target, sql))
    except Exception as exc:
        note = dvt.redact(f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}")
        return {r.unique_id: unknown(note) for r in relations}


def _adapter_rows(dvt: Any, target: str, sql: str) -> list[tuple[Any, ...]]:
    """Rows of `sql` run through the target's own dbt adapter (which logs it at debug level),
    untouched by agate's type inference."""
    from dvt.dbt_seams.factory import active_adapter

    adapter = dvt.pool.adapter_for(target)
    connections: Any = adapter.connections
    with active_adapter(adapter), adapter.connection_named("dvt_estimate"):
        _, cursor = connections.add_query(sql)
        return [tuple(row) for row in cursor.fetchall()]
