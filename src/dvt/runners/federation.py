"""Federated runners: extract each input, compute in the engine, stage the result on the node's
target, then let dbt's own runner finish there over the staged rows (DESIGN.md section 6).

The same mixin serves models (dbt's materializations), data tests (dbt's test materialization
counts the failures) and snapshots (dbt's snapshot logic over the staged source query).
"""

from __future__ import annotations

import time
from typing import Any

from dbt.artifacts.schemas.run import RunResult
from dbt.task.run import ModelRunner
from dbt.task.snapshot import SnapshotRunner
from dbt.task.test import TestRunner

from dvt import events, invocation
from dvt.engines.duckdb import DuckDBEngine
from dvt.exceptions import DvtError
from dvt.planning.models import FederationPlan, RelationKey
from dvt.runners.session import DIALECTS, FederationSession, plan_inputs

STAGE_SUFFIX = "__dvt_stage"


class FederationError(DvtError):
    code = "DVT104"


class FederatedRunnerMixin:
    """Mix in before a dbt runner: `execute` runs the runner over rows staged by the engine."""

    adapter: Any

    def stage_schema(self, node: Any) -> str:
        return str(node.schema)

    def execute(self, node: Any, manifest: Any) -> RunResult:
        dvt = invocation.get()
        resolution = dvt.resolve(node)
        engine = dvt.engine(resolution.compute or dvt.computes.default)
        assert isinstance(engine, DuckDBEngine), "engines.create returns DuckDB engines only"
        stage = RelationKey(
            node.database or "", self.stage_schema(node), f"{node.alias}{STAGE_SUFFIX}"
        )
        started = time.perf_counter()
        original_sql, original_materialized = node.compiled_code, node.config.materialized
        with FederationSession(dvt, engine, node) as session:
            target = session.connector(resolution.target)
            try:
                plan = session.plan(plan_inputs(dvt, node, manifest), DIALECTS[target.spec.type])
                for sql in plan.not_pushed:
                    events.debug(f"[DVT005] {node.unique_id}: predicate kept in the engine: {sql}")
                session.expose_inputs(plan)
                rows = target.stage(plan.engine_sql, stage)
            except DvtError:
                target.drop_stage(stage)
                raise
            except Exception as exc:  # the engine's and drivers' errors, with the node named
                target.drop_stage(stage)
                read = ", ".join(repr(t) for t in resolution.input_targets)
                raise FederationError(
                    f"Federated {node.resource_type} {node.unique_id!r} failed while reading "
                    f"{read} into {resolution.target!r}: {dvt.redact(str(exc))}"
                ) from None
            try:
                relation = self.adapter.Relation.create(
                    database=node.database, schema=stage.schema, identifier=stage.name
                )
                node.compiled_code = f"select * from {relation}"
                if original_materialized == "view":
                    events.warn(
                        "DVT001",
                        f"{node.unique_id} is a view over other targets; under federation it is "
                        "materialized as a table.",
                    )
                    node.config.materialized = "table"
                result: RunResult = super().execute(node, manifest)  # type: ignore[misc]
            finally:
                node.compiled_code = original_sql
                node.config.materialized = original_materialized
                target.drop_stage(stage)
        summary = _summary(resolution, engine.name, rows, plan, time.perf_counter() - started)
        result.adapter_response = {**(result.adapter_response or {}), "dvt": summary}
        return result


def _summary(
    resolution: Any, compute: str, rows: int, plan: FederationPlan, seconds: float
) -> dict[str, Any]:
    return {
        "path": resolution.label,
        "targets": list(resolution.input_targets),
        "target": resolution.target,
        "compute": compute,
        "rows": rows,
        "extractions": [
            {"input": e.input.unique_id, "target": e.input.target, "sql": e.sql}
            for e in plan.extractions
        ],
        "engine_sql": plan.engine_sql,
        "seconds": round(seconds, 3),
    }


def _written_message(result: RunResult) -> str:
    dvt = result.adapter_response["dvt"]
    read = ", ".join(dvt["targets"])
    return f"federation [{read}] -> {dvt['target']} {dvt['rows']:,} rows"


class FederatedModelRunner(FederatedRunnerMixin, ModelRunner):
    """dbt's ModelRunner on the model's target, fed by the engine instead of the model's SQL."""

    def execute(self, node: Any, manifest: Any) -> RunResult:
        result = super().execute(node, manifest)
        result.message = _written_message(result)
        return result


class FederatedSnapshotRunner(FederatedRunnerMixin, SnapshotRunner):
    """dbt's snapshot logic on the snapshot's target, over its source query staged there."""

    def execute(self, node: Any, manifest: Any) -> RunResult:
        result = super().execute(node, manifest)
        result.message = _written_message(result)
        return result


class FederatedTestRunner(FederatedRunnerMixin, TestRunner):
    """A data test whose inputs span targets: its failing rows are staged, dbt counts them."""

    def stage_schema(self, node: Any) -> str:
        # The test's audit schema may not exist; the target's own schema does.
        return str(self.config.credentials.schema)


def federated_runner_for(runner: Any) -> type[Any] | None:
    """The federated counterpart of one of dbt's runners, or None when there is none."""
    for dbt_runner, federated in (
        (ModelRunner, FederatedModelRunner),
        (SnapshotRunner, FederatedSnapshotRunner),
        (TestRunner, FederatedTestRunner),
    ):
        if isinstance(runner, dbt_runner):
            return federated
    return None
