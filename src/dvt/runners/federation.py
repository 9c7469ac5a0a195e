"""Federated runners: the node's pipeline (`execution.node`) imports its remote inputs into
the target or computes it in the engine, then dbt's own runner finishes on the target over the
imports or the staged rows (DESIGN.md section 6).

The same mixin serves models (dbt's materializations), data tests (dbt's test materialization
counts the failures), snapshots (dbt's snapshot logic over the source query) and `dvt show`.
"""

from __future__ import annotations

import decimal
import threading
import time
from collections.abc import Callable
from typing import Any

from dbt.artifacts.schemas.run import RunResult, RunStatus
from dbt.task.run import MicrobatchModelRunner, ModelRunner
from dbt.task.show import ShowRunner
from dbt.task.snapshot import SnapshotRunner
from dbt.task.test import TestRunner

from dvt import engines, events, invocation
from dvt.engines.base import Engine
from dvt.engines.duckdb import DuckDBEngine
from dvt.exceptions import DvtError, EngineUnavailableError
from dvt.execution.node import FederatedNode
from dvt.execution.session import FederationSession, plan_inputs
from dvt.planning.models import FederationPlan
from dvt.runners.connections import roll_back

#: Adapters whose table materialization may rename the stage into place (`StageAdoption`).
ADOPTING_ADAPTERS = frozenset({"postgres", "duckdb"})


class FederationError(DvtError):
    code = "DVT104"


def refuse_python(node: Any, resolution: Any) -> None:
    """DVT104 for a Python model whose inputs live on other targets: only SQL is federated."""
    if getattr(node, "language", "sql") != "python":
        return
    others = sorted({t for _, t in resolution.inputs if t != resolution.target})
    reads = ", ".join(repr(t) for t in others)
    raise FederationError(
        f"Python model {node.unique_id} ({node.original_file_path}) lives on "
        f"{resolution.target!r} and reads {reads}: DVT federates SQL models only. Give it the "
        f"target its inputs live on (config(target=...)), or ref a SQL model on "
        f"{resolution.target!r} that selects what it needs (that model is federated)."
    )


class FederatedRunnerMixin:
    """Mix in before a dbt runner: `execute` runs the dbt runner over imports or staged rows."""

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
        refuse_python(node, resolution)
        started = time.perf_counter()
        original_sql, original_materialized = node.compiled_code, node.config.materialized
        with FederationSession(dvt, reader_for(dvt, resolution), node) as session:
            work = FederatedNode(
                session,
                resolution,
                *engine_for(dvt, resolution),
                schema=self.stage_schema(node),
                final=self.adopts_stage(node),
            )
            try:
                if original_materialized == "view":  # an error under --warn-error: read nothing
                    events.warn(
                        "DVT001",
                        f"{node.unique_id} is a view over other targets; under federation it is "
                        "materialized as a table.",
                    )
                try:
                    sql = work.prepare(plan_inputs(dvt, node, manifest))
                except DvtError:
                    raise
                except Exception as exc:  # the engine's and drivers' errors, with the node named
                    read = ", ".join(repr(t) for t in resolution.input_targets)
                    raise FederationError(
                        f"Federated {node.resource_type} {node.unique_id!r} failed while reading "
                        f"{read} into {resolution.target!r}: {dvt.redact(str(exc))}"
                    ) from None
                node.compiled_code = sql
                if work.stage is not None and work.final:
                    self.adoption = StageAdoption(self.adapter, work, sql)
                if original_materialized == "view":
                    node.config.materialized = "table"
                dvt.stop_if_interrupted(node.unique_id)
                result: RunResult = super().execute(node, manifest)  # type: ignore[misc]
                rows = work.rows_staged if work.stage is not None else _rows_written(result)
                if rows is None and work.stage is None and _is_table(node, result):
                    rows = work.target.scalar(f"select count(*) from {node.relation_name}")
            finally:
                adoption, self.adoption = self.adoption, None
                node.compiled_code = original_sql
                node.config.materialized = original_materialized
                roll_back(self.adapter)  # dbt's reads hold locks on the imports until then
                work.clean_up()
        if adoption is not None and adoption.adopted:
            adoption.report(result, work.rows_staged or 0)
        summary = {
            **resolution.to_dict(),
            "compute": work.engine.name if work.engine is not None else None,
            "rows": rows,
            **work.summary(),
            "seconds": round(time.perf_counter() - started, 3),
        }
        result.adapter_response = {**(result.adapter_response or {}), "dvt": summary}
        return result


def _is_table(node: Any, result: RunResult) -> bool:
    """A model just built as a whole table (a view over imports is one too)."""
    return (
        result.status == RunStatus.Success
        and node.resource_type == "model"
        and node.config.materialized in ("table", "view")
    )


def _rows_written(result: RunResult) -> int | None:
    rows = (result.adapter_response or {}).get("rows_affected")
    return rows if isinstance(rows, int) and rows >= 0 else None


class StageAdoption:
    """`create_table_as` for a federated model whose staged table is already what the model's
    table would hold: instead of copying every row once more, the stage is renamed to the
    relation dbt creates. Everything around it (hooks, the atomic swap, indexes, grants, docs,
    the transaction) is dbt's materialization; any other call goes to dbt's macro."""

    def __init__(self, adapter: Any, work: FederatedNode, select_sql: str) -> None:
        assert work.stage is not None
        self.adapter = adapter
        self.stage = adapter.Relation.create(
            database=work.node.database, schema=work.stage.schema, identifier=work.stage.name
        )
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
    """dbt's ModelRunner on the model's target, over imports or the engine's staged rows."""

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

    def describe_node(self) -> str:
        """dbt's, naming the table a federated view is built as (DVT001)."""
        node = self.node
        if node.config.materialized != "view":
            return str(super().describe_node())
        return f"{node.language} table model {self.get_node_representation()}"

    def _execute_model(
        self,
        hook_ctx: Any,
        context_config: Any,
        model: Any,
        context: dict[str, Any],
        *args: Any,
        **kwargs: Any,
    ) -> RunResult:
        if self.adoption is not None:
            self.adoption.install(context)
        return super()._execute_model(hook_ctx, context_config, model, context, *args, **kwargs)


class FederatedSnapshotRunner(FederatedRunnerMixin, SnapshotRunner):
    """dbt's snapshot logic on the snapshot's target, over its source query's imports (or its
    rows staged there by the engine)."""


class FederatedTestRunner(FederatedRunnerMixin, TestRunner):
    """A data test whose inputs span targets: it runs on its target over imports (or over its
    failing rows staged by the engine), and dbt counts the failures."""

    def stage_schema(self, node: Any) -> str:
        # The test's audit schema may not exist; the target's own schema does.
        return str(self.config.credentials.schema)


class FederatedShowRunner(ShowRunner):
    """`dvt show` of a query that spans targets: dbt's own show on its target over imports, or
    computed in the engine; nothing is written but the imports, dropped at the end."""

    def execute(self, compiled_node: Any, manifest: Any) -> RunResult:
        from dbt_common.clients.agate_helper import table_from_data_flat

        started = time.perf_counter()
        dvt = invocation.get()
        resolution = dvt.resolve(compiled_node)
        original_sql = compiled_node.compiled_code
        dialect, start_engine = engine_for(dvt, resolution)
        with FederationSession(dvt, reader_for(dvt, resolution), compiled_node) as session:
            work = FederatedNode(
                session,
                resolution,
                dialect,
                start_engine,
                schema=str(compiled_node.schema),
                final=False,
            )
            try:
                sql = work.prepare(plan_inputs(dvt, compiled_node, manifest), stage=False)
                if work.choice is not None and work.choice.placement == "target":
                    compiled_node.compiled_code = sql
                    result: RunResult = super().execute(compiled_node, manifest)
                    where = {**resolution.to_dict(), "compute": None, **work.summary()}
                    result.adapter_response = {**result.adapter_response, "dvt": where}
                    return result
                assert work.plan is not None
                limit = None if self.config.args.limit < 0 else self.config.args.limit
                engine = start_engine()
                table = engine.fetch(session, work.plan, limit)
            finally:
                compiled_node.compiled_code = original_sql
                roll_back(self.adapter)
                work.clean_up()
        elapsed = time.perf_counter() - started
        summary = {**resolution.to_dict(), "compute": engine.name, "rows": table.num_rows}
        # As dbt reads a cursor's rows: a name given twice becomes `name_2` (`process_results`).
        names = list(table.column_names)
        rows = self.adapter.connections.process_results(
            names, zip(*_values(table, work.plan), strict=True)
        )
        return RunResult(
            node=compiled_node,
            status=RunStatus.Success,
            timing=[],
            thread_id=threading.current_thread().name,
            execution_time=elapsed,
            message=None,
            adapter_response={"dvt": {**summary, **work.summary(), "seconds": round(elapsed, 3)}},
            agate_table=table_from_data_flat(rows, names),
            failures=None,
            batch_results=None,
        )


def _values(table: Any, plan: FederationPlan) -> list[list[Any]]:
    """An engine result's values, column by column, each numeric the engine gave as its text
    (`text_numerics`) a Decimal again, as the target's show gives it."""
    columns = [table.column(position).to_pylist() for position in range(table.num_columns)]
    for position in plan.text_numerics:
        columns[position] = [None if v is None else decimal.Decimal(v) for v in columns[position]]
    return columns


def engine_for(dvt: Any, resolution: Any) -> tuple[str, Callable[[], Engine]]:
    """The dialect of the node's compute engine, and how to start it (once per invocation, and
    only when a node is placed in it)."""
    compute = resolution.compute or dvt.computes.default
    spec = dvt.computes.require(compute, used_by=resolution.unique_id)
    return engines.dialect(spec.type), lambda: dvt.engine(compute)


def warm_up(dvt: Any, nodes: list[Any]) -> None:
    """Open, while dbt starts, what the invocation's first federated nodes would open as they
    run: the reader engine, the Arrow library, and on each target the nodes read or write its
    connections (`Connector.warm_up`); beside that, in a thread of its own (both wait on their
    databases, not on Python), what imports between two targets first need
    (`Connector.warm_up_imports`). A failure is left for a node to meet and report."""
    try:
        import pyarrow  # noqa: F401 - imported once, here rather than in a node

        resolutions = [dvt.resolve(node) for node in nodes]
        loads = {r.target for r in resolutions}
        reads = {t for r in resolutions for t in r.input_targets}
        imports = {(r.target, s) for r in resolutions for s in r.input_targets if s != r.target}
        reader = reader_for(dvt, resolutions[0])
        preparing = threading.Thread(
            target=_warm_up_imports,
            args=(dvt, reader, nodes[0], sorted(imports)),
            name="dvt-warm-up-imports",
            daemon=True,
        )
        preparing.start()
        try:
            with FederationSession(dvt, reader, nodes[0]) as session:
                for target in sorted(loads | reads):
                    session.connector(target).warm_up(loads=target in loads)
                    events.debug(f"Opened {target!r} for the federated nodes")
        finally:
            preparing.join()  # the invocation's end waits for this thread only
    except Exception as exc:
        events.debug(f"Warming up federation failed ({type(exc).__name__}): {dvt.redact(str(exc))}")


def _warm_up_imports(
    dvt: Any, reader: DuckDBEngine, node: Any, imports: list[tuple[str, str]]
) -> None:
    """`Connector.warm_up_imports` of each (target, source) pair: the first failure ends it,
    logged (a node meets it again)."""
    pair = ""
    try:
        with FederationSession(dvt, reader, node) as session:
            for target, source in imports:
                pair = f" from {source!r} into {target!r}"
                if session.connector(target).warm_up_imports(session.connector(source)):
                    events.debug(f"Opened what imports{pair} need")
    except Exception as exc:
        why = f"{type(exc).__name__}: {dvt.redact(str(exc))}"
        events.debug(f"Warming up imports{pair} failed ({why})")


def reader_for(dvt: Any, resolution: Any) -> DuckDBEngine:
    """The DuckDB engine connectors read through (schemas, imports, the engine's inputs): the
    node's compute when it is a DuckDB one (so its settings apply), else the built-in `duckdb`.
    Starting an embedded DuckDB costs nothing; Spark starts only when a node is placed there."""
    compute = resolution.compute or dvt.computes.default
    spec = dvt.computes.require(compute, used_by=resolution.unique_id)
    reader = dvt.engine(compute if spec.type == "duckdb" else "duckdb")
    if not isinstance(reader, DuckDBEngine):
        raise EngineUnavailableError(
            "The compute named 'duckdb' must be of type duckdb: DVT reads inputs through it."
        )
    return reader


class FederatedMicrobatchModelRunner(MicrobatchModelRunner):
    """dbt's runner of a microbatch model, which runs its batches (each federated by
    `runners.microbatch`'s batch runner); its result keeps what each batch read and wrote
    (`adapter_response["dvt"]["batches"]`), which dbt's merge of the batches drops."""

    def merge_batch_results(self, result: RunResult, batch_results: list[RunResult]) -> None:
        super().merge_batch_results(result, batch_results)
        batches = [_batch_summary(b) for b in batch_results if b.adapter_response.get("dvt")]
        if not batches:  # dbt merges again, with no batches, when the run is interrupted
            return
        rows = [b["rows"] for b in batches]
        summary = {
            **invocation.get().resolve(self.node).to_dict(),
            "rows": sum(rows) if all(isinstance(r, int) for r in rows) else None,
            "batches": batches,
        }
        result.adapter_response = {**(result.adapter_response or {}), "dvt": summary}


def _batch_summary(result: RunResult) -> dict[str, Any]:
    """One batch's reads and rows, without the resolution every batch shares."""
    done = result.batch_results
    batch = next(iter((done.successful or done.failed) if done else ()), None)
    start = batch[0] if batch else None
    shared = {"target", "path", "input_targets", "bucket"}
    reads = {k: v for k, v in result.adapter_response["dvt"].items() if k not in shared}
    return {"batch": start.isoformat() if start else None, "status": str(result.status), **reads}


def federated_runner_for(runner: Any) -> type[Any] | None:
    """The federated counterpart of one of dbt's runners, or None when there is none. A
    microbatch model's batches are each federated by `runners.microbatch`'s batch runner."""
    if isinstance(runner, MicrobatchModelRunner):
        return FederatedMicrobatchModelRunner
    for dbt_runner, federated in (  # subclasses first: a SnapshotRunner is a ModelRunner
        (ShowRunner, FederatedShowRunner),
        (SnapshotRunner, FederatedSnapshotRunner),
        (ModelRunner, FederatedModelRunner),
        (TestRunner, FederatedTestRunner),
    ):
        if isinstance(runner, dbt_runner):
            return federated
    return None
