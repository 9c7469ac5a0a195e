"""Federated runners: extract each input, compute in the engine, stage the result on the node's
target, then let dbt's own runner finish there over the staged rows (DESIGN.md section 6).

The same mixin serves models (dbt's materializations), data tests (dbt's test materialization
counts the failures) and snapshots (dbt's snapshot logic over the staged source query).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from dbt.artifacts.schemas.run import RunResult, RunStatus
from dbt.task.run import ModelRunner
from dbt.task.show import ShowRunner
from dbt.task.snapshot import SnapshotRunner
from dbt.task.test import TestRunner

from dvt import events, invocation
from dvt.engines.base import Engine
from dvt.engines.duckdb import DuckDBEngine
from dvt.exceptions import DvtError, EngineUnavailableError
from dvt.planning.models import FederationPlan, RelationKey
from dvt.runners.connections import roll_back
from dvt.runners.session import DIALECTS, FederationSession, plan_inputs

STAGE_SUFFIX = "__dvt_stage"
#: Adapters whose table materialization may rename the stage into place (`StageAdoption`).
ADOPTING_ADAPTERS = frozenset({"postgres", "duckdb"})


class FederationError(DvtError):
    code = "DVT104"


class FederatedRunnerMixin:
    """Mix in before a dbt runner: `execute` runs the runner over rows staged by the engine."""

    adapter: Any
    #: Set while a node runs: the stage that dbt's `create_table_as` may rename into place.
    adoption: StageAdoption | None = None

    def stage_schema(self, node: Any) -> str:
        return str(node.schema)

    def adopts_stage(self, node: Any) -> bool:
        """Whether the staged table can become the model's table as it is (models only)."""
        return False

    def execute(self, node: Any, manifest: Any) -> RunResult:
        dvt = invocation.get()
        resolution = dvt.resolve(node)
        engine, reader = engines_for(dvt, resolution)
        stage = RelationKey(
            node.database or "", self.stage_schema(node), f"{node.alias}{STAGE_SUFFIX}"
        )
        started = time.perf_counter()
        original_sql, original_materialized = node.compiled_code, node.config.materialized
        with FederationSession(dvt, reader, node) as session:
            target = session.connector(resolution.target)
            session.stage_is_final = self.adopts_stage(node)
            try:
                dialect = DIALECTS[target.spec.type]
                plan = session.plan(plan_inputs(dvt, node, manifest), dialect, engine.dialect)
                for sql in plan.not_pushed:
                    events.debug(f"[DVT005] {node.unique_id}: predicate kept in the engine: {sql}")
                rows = engine.materialize(session, plan, target, stage)
            except DvtError:
                _drop_stage_quietly(dvt, target, stage)
                raise
            except Exception as exc:  # the engine's and drivers' errors, with the node named
                _drop_stage_quietly(dvt, target, stage)
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
                if session.stage_is_final:
                    self.adoption = StageAdoption(self.adapter, relation, node.compiled_code)
                if original_materialized == "view":
                    events.warn(
                        "DVT001",
                        f"{node.unique_id} is a view over other targets; under federation it is "
                        "materialized as a table.",
                    )
                    node.config.materialized = "table"
                result: RunResult = super().execute(node, manifest)  # type: ignore[misc]
            except BaseException:
                roll_back(self.adapter)
                raise
            finally:
                adoption, self.adoption = self.adoption, None
                node.compiled_code = original_sql
                node.config.materialized = original_materialized
                _drop_stage_quietly(dvt, target, stage)
        if adoption is not None and adoption.adopted:
            adoption.report(result, rows)
        summary = _summary(resolution, engine.name, rows, plan, time.perf_counter() - started)
        for extraction, entry in zip(plan.extractions, summary["extractions"], strict=True):
            entry["rows"] = session.rows_read.get(extraction.engine_name, [0])[0]
        result.adapter_response = {**(result.adapter_response or {}), "dvt": summary}
        return result


def _drop_stage_quietly(dvt: Any, target: Any, stage: RelationKey) -> None:
    """Drop the stage without letting a failed drop hide the node's own result or error: a
    target that is down has rolled the stage back itself, and a stage left anyway is replaced by
    the next run."""
    try:
        target.drop_stage(stage)
    except Exception as exc:
        events.debug(f"[DVT104] could not drop {stage.name}: {dvt.redact(str(exc))}")


def _summary(
    resolution: Any, compute: str, rows: int, plan: FederationPlan, seconds: float
) -> dict[str, Any]:
    """`adapter_response["dvt"]`: where the node ran (the keys every node has), rows written
    to the target, and what each database ran."""
    return {
        **resolution.to_dict(),
        "compute": compute,
        "rows": rows,
        "extractions": [
            {"input": e.input.unique_id, "target": e.input.target, "sql": e.sql}
            for e in plan.extractions
        ],
        "engine_sql": plan.engine_sql,
        "seconds": round(seconds, 3),
    }


class StageAdoption:
    """`create_table_as` for a federated model whose staged table is already what the model's
    table would hold: instead of copying every row once more, the stage is renamed to the
    relation dbt creates. Everything around it (hooks, the atomic swap, indexes, grants, docs,
    the transaction) is dbt's materialization; any other call goes to dbt's macro."""

    def __init__(self, adapter: Any, stage: Any, select_sql: str) -> None:
        self.adapter = adapter
        self.stage = stage
        self.select_sql = select_sql
        self.adopted = False
        self.create_table_as: Any = None  # dbt's macro, set per materialization context

    def install(self, context: dict[str, Any]) -> None:
        self.create_table_as = context["create_table_as"]
        context["create_table_as"] = self

    def __call__(
        self, temporary: bool, relation: Any, compiled_code: str, language: str = "sql", **kw: Any
    ) -> Any:
        stage = self.stage
        same_place = (relation.database, relation.schema) == (stage.database, stage.schema)
        if (
            temporary
            or language != "sql"
            or compiled_code != self.select_sql
            or not same_place
            or any(kw.values())  # dbt-duckdb's partitioned_by / sorted_by
        ):
            return self.create_table_as(temporary, relation, compiled_code, language, **kw)
        self.adopted = True
        return f"alter table {self.stage} rename to {self.adapter.quote(relation.identifier)}"

    def report(self, result: RunResult, rows: int) -> None:
        """Give the result the message of the `create table as` the rename stood in for."""
        if self.adapter.type() == "postgres":  # dbt-duckdb answers "OK" to both
            result.message = f"SELECT {rows}"
            result.adapter_response.update(
                _message=result.message, code="SELECT", rows_affected=rows
            )


class FederatedModelRunner(FederatedRunnerMixin, ModelRunner):
    """dbt's ModelRunner on the model's target, fed by the engine instead of the model's SQL."""

    def adopts_stage(self, node: Any) -> bool:
        """A table (or a view made a table) without a contract or SQL header, on a target
        whose `create table as` the rename stands in for."""
        config = node.config
        return (
            config.materialized in ("table", "view")
            and self.adapter.type() in ADOPTING_ADAPTERS
            and not config.contract.enforced
            and not config.get("sql_header")
        )

    def _execute_model(
        self, hook_ctx: Any, context_config: Any, model: Any, context: dict[str, Any], macro: Any
    ) -> RunResult:
        if self.adoption is not None:
            self.adoption.install(context)
        return super()._execute_model(hook_ctx, context_config, model, context, macro)


class FederatedSnapshotRunner(FederatedRunnerMixin, SnapshotRunner):
    """dbt's snapshot logic on the snapshot's target, over its source query staged there."""


class FederatedTestRunner(FederatedRunnerMixin, TestRunner):
    """A data test whose inputs span targets: its failing rows are staged, dbt counts them."""

    def stage_schema(self, node: Any) -> str:
        # The test's audit schema may not exist; the target's own schema does.
        return str(self.config.credentials.schema)


class FederatedShowRunner(ShowRunner):
    """`dvt show` of a query that spans targets: computed in the engine, nothing written."""

    def execute(self, compiled_node: Any, manifest: Any) -> RunResult:
        from dbt_common.clients.agate_helper import table_from_data_flat

        started = time.perf_counter()
        limit = None if self.config.args.limit < 0 else self.config.args.limit
        dvt = invocation.get()
        resolution = dvt.resolve(compiled_node)
        engine, reader = engines_for(dvt, resolution)
        with FederationSession(dvt, reader, compiled_node) as session:
            dialect = DIALECTS[dvt.targets[resolution.target].type]
            plan = session.plan(plan_inputs(dvt, compiled_node, manifest), dialect, engine.dialect)
            table = engine.fetch(session, plan, limit)
        elapsed = time.perf_counter() - started
        return RunResult(
            node=compiled_node,
            status=RunStatus.Success,
            timing=[],
            thread_id=threading.current_thread().name,
            execution_time=elapsed,
            message=None,
            adapter_response={
                "dvt": _summary(resolution, engine.name, table.num_rows, plan, elapsed)
            },
            agate_table=table_from_data_flat(table.to_pylist(), table.column_names),
            failures=None,
            batch_results=None,
        )


def engines_for(dvt: Any, resolution: Any) -> tuple[Engine, DuckDBEngine]:
    """The node's compute engine, and the DuckDB engine its connectors read through (the same
    one when the compute is DuckDB; the built-in `duckdb` compute otherwise)."""
    engine = dvt.engine(resolution.compute or dvt.computes.default)
    reader = engine if isinstance(engine, DuckDBEngine) else dvt.engine("duckdb")
    if not isinstance(reader, DuckDBEngine):
        raise EngineUnavailableError(
            "The compute named 'duckdb' must be of type duckdb: DVT reads inputs through it."
        )
    return engine, reader


def federated_runner_for(runner: Any) -> type[Any] | None:
    """The federated counterpart of one of dbt's runners, or None when there is none."""
    for dbt_runner, federated in (  # subclasses first: a SnapshotRunner is a ModelRunner
        (ShowRunner, FederatedShowRunner),
        (SnapshotRunner, FederatedSnapshotRunner),
        (ModelRunner, FederatedModelRunner),
        (TestRunner, FederatedTestRunner),
    ):
        if isinstance(runner, dbt_runner):
            return federated
    return None
