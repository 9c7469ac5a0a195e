"""The mixin that makes any dbt graph task target-aware.

dbt builds every runner with the default target's config and adapter. DVT builds the runner of
a node that lives on another target with that target's config and adapter, and makes dbt's
`get_adapter` return that adapter in the worker thread while the node runs. Schemas are created
and the relation cache filled on every target the selection writes to. In a multi-target project
each node's result line says where it ran, and run_results.json records it.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Any

from dbt.adapters.factory import get_adapter
from dbt.artifacts.schemas.results import RunStatus
from dbt.flags import get_flags
from dbt.node_types import NodeType
from dbt.task.run import ModelRunner, RunTask
from dbt.task.seed import SeedRunner
from dbt.task.test import TestRunner

from dvt import events, invocation
from dvt.dbt_seams.factory import active_adapter
from dvt.dbt_seams.pool import cancels_skip_closed
from dvt.exceptions import TargetUnavailableError
from dvt.execution.imports import drop_shared_imports, share_imports
from dvt.invocation import Invocation
from dvt.runners.seed import BulkSeedRunner

if TYPE_CHECKING:
    from dbt.adapters.base import BaseAdapter
    from dbt.artifacts.schemas.run import RunResult
    from dbt.task.base import BaseRunner

#: Node types whose result lines say where they ran (in multi-target projects).
_WHERE_TYPES = frozenset({NodeType.Model, NodeType.Seed, NodeType.Snapshot, NodeType.Test})


def record_where(node: Any, result: RunResult) -> dict[str, Any]:
    """`adapter_response["dvt"]` of a node's result: where it ran and the rows it wrote.

    Federated runners record more (the SQL each database ran, rows read); other nodes get the
    node's resolution and the rows their adapter reports writing, when it reports them.
    """
    response = result.adapter_response or {}
    if "dvt" not in response:
        rows = response.get("rows_affected")
        written = node.resource_type != NodeType.Test and isinstance(rows, int) and rows >= 0
        where = {**invocation.get().resolve(node).to_dict(), "rows": rows if written else None}
        result.adapter_response = response = {"dvt": where, **response}
    return response["dvt"]


def where_text(resource_type: NodeType, where: dict[str, Any]) -> str:
    """`pushdown -> pg`, `federation [duck, pg] -> pg 3 rows`, `2 rows -> duck` (a seed), `pg`
    (a test on its model's target)."""
    target, rows = where["target"], where["rows"]
    written = "" if rows is None else f"{rows:,} rows "
    federation = f"federation [{', '.join(where['input_targets'])}] -> {target}"
    if resource_type == NodeType.Test:  # its failing rows are in its status (`FAIL 2`)
        return federation if where["path"] == "federation" else target
    if resource_type == NodeType.Seed:
        return f"{written}-> {target}"
    if where["path"] != "federation":
        return f"pushdown -> {target}"
    return f"{federation} {written}".rstrip()


@contextlib.contextmanager
def views_as_tables(dvt: Invocation, results: Any) -> Iterator[None]:
    """While dbt counts the results (`Finished running 2 table models`), each federated view
    is the table it was built as (DVT001)."""
    views = [
        r.node
        for r in results
        if getattr(r, "node", None) is not None
        and r.node.resource_type == NodeType.Model
        and r.node.config.materialized == "view"
        and dvt.resolve(r.node).is_federated
    ]
    for node in views:
        node.config.materialized = "table"
    try:
        yield
    finally:
        for node in views:
            node.config.materialized = "view"


class WhereLineMixin:
    """Mixed into a model, seed or snapshot runner: its result line says where the node ran.

    dbt's `print_result_line` fires the typed event (LogModelResult, LogSeedResult,
    LogSnapshotResult) whose bracketed status is the result's message; while it runs, the message
    is DVT's `where_text`, so text and JSON logs carry it. run_results.json keeps dbt's message,
    and lines of other statuses (error, microbatch's partial success) are dbt's.
    """

    node: Any

    def print_result_line(self, result: RunResult) -> None:
        where = record_where(self.node, result)
        if result.status != RunStatus.Success:  # dbt's line reads its own message then
            return super().print_result_line(result)  # type: ignore[misc]
        message = result.message
        result.message = where_text(self.node.resource_type, where)
        try:
            super().print_result_line(result)  # type: ignore[misc]
        finally:
            result.message = message


class DataTestWhereLineMixin:
    """Mixed into a test runner: dbt's LogTestResult shows the test's name, followed here by
    where it ran: `PASS not_null_orders_id (pg)`."""

    node: Any
    _where = ""

    def describe_node_name(self) -> str:
        return f"{super().describe_node_name()}{self._where}"  # type: ignore[misc]

    def print_result_line(self, result: RunResult) -> None:
        self._where = f" ({where_text(self.node.resource_type, record_where(self.node, result))})"
        try:
            super().print_result_line(result)  # type: ignore[misc]
        finally:
            self._where = ""


def _prints_result_line(runner: BaseRunner) -> bool:
    """Whether `runner` prints a model, seed, snapshot or data test result line (compile and
    show runners print none)."""
    node_type = runner.node.resource_type
    return node_type in _WHERE_TYPES and isinstance(runner, (ModelRunner, TestRunner))


_WHERE_LINE_RUNNERS: dict[type[Any], type[Any]] = {}


def _with_where_line(runner_cls: type[Any]) -> type[Any]:
    """`runner_cls` with its result line saying where the node ran (one subclass per class)."""
    if runner_cls not in _WHERE_LINE_RUNNERS:
        mixin = DataTestWhereLineMixin if issubclass(runner_cls, TestRunner) else WhereLineMixin
        name, doc = runner_cls.__name__, runner_cls.__doc__
        _WHERE_LINE_RUNNERS[runner_cls] = type(name, (mixin, runner_cls), {"__doc__": doc})
    return _WHERE_LINE_RUNNERS[runner_cls]


def _warm_up(dvt: Invocation, federated: list[Any]) -> None:
    from dvt.runners.federation import warm_up  # SQLGlot and the engines load in this thread

    warm_up(dvt, federated)


class TargetAwareTask:
    """Mix in before a dbt graph task: `class DvtRunTask(TargetAwareTask, RunTask)`."""

    config: Any
    manifest: Any
    args: Any
    #: The thread opening what federated nodes need while dbt starts (`warm_up`).
    _warming: threading.Thread | None = None

    @property
    def dvt(self) -> Invocation:
        return invocation.current(self.config, self.manifest)

    def get_runner(self, node: Any) -> BaseRunner:
        runner = super().get_runner(node)  # type: ignore[misc]
        resolution = self.dvt.resolve(node)
        target = resolution.target
        runner_cls: type[Any] = type(runner)
        if resolution.is_federated:  # imported here: SQLGlot loads only when a node federates
            from dvt.runners.federation import federated_runner_for

            runner_cls = federated_runner_for(runner) or runner_cls
        elif isinstance(runner, SeedRunner):
            runner_cls = BulkSeedRunner
        if self.dvt.multi_target and _prints_result_line(runner):
            runner_cls = _with_where_line(runner_cls)
        if runner_cls is type(runner) and target == self.dvt.targets.default:
            return runner
        return runner_cls(
            self.dvt.pool.config_for(target),
            self.dvt.pool.adapter_for(target),
            node,
            runner.node_index,
            runner.num_nodes,
        )

    def _cancel_connections(self, pool: Any) -> None:
        """On Ctrl-C or --fail-fast, also stop engine queries and other targets' queries, so
        federated nodes clean up their staging before dbt waits for its threads. dbt's own
        cancellation (the default target's queries, then waiting for the threads) runs
        whatever DVT's does."""
        try:
            self.dvt.interrupt()
        finally:
            with cancels_skip_closed(get_adapter(self.config)):
                super()._cancel_connections(pool)  # type: ignore[misc]

    def call_runner(self, runner: BaseRunner, *args: Any, **kwargs: Any) -> RunResult:
        """dbt's, with the runner's adapter active; dbt's other arguments (1.12's
        `parent_context`) pass through."""
        with active_adapter(runner.adapter):
            result: RunResult = super().call_runner(runner, *args, **kwargs)  # type: ignore[misc]
        return result

    def run(self) -> Any:
        """dbt's, with what the invocation has loaded so far (modules, the manifest, adapters)
        frozen out of the garbage collector: it lives until the invocation ends, and full
        collections would otherwise scan it again and again, in the graph's selection, while
        SQLGlot and the engines load for the warm-up (0.09 s of importing SQLGlot's parser
        alone), and while nodes run (0.5 s of a 99-model run here); thawed after."""
        gc.freeze()
        try:
            return super().run()  # type: ignore[misc]
        finally:
            gc.unfreeze()

    def execute_nodes(self) -> list[RunResult]:
        """dbt's, with imports shared by the nodes that read the same input; then
        run_results.json says where every node ran, skipped ones included. The graph and the
        selection built since `run` froze the heap are frozen too (`run` thaws them)."""
        gc.freeze()
        if self.dvt.multi_target:
            share_imports(self.dvt, self.job_queue.get_selected_nodes())  # type: ignore[attr-defined]
        try:
            results: list[RunResult] = super().execute_nodes()  # type: ignore[misc]
        finally:
            if self._warming is not None:
                self._warming.join()
            drop_shared_imports(self.dvt)
        if self.dvt.multi_target:
            for result in results:
                if result.node.unique_id in self.manifest.nodes:
                    record_where(result.node, result)
        return results

    # -- schemas and cache on every target the selection writes to ---------------------------

    def _other_targets(self, selected_uids: AbstractSet[str]) -> list[str]:
        used = self.dvt.targets_in_use(selected_uids)
        return sorted(used - {self.dvt.targets.default})

    def _on_target(self, adapter: BaseAdapter, selected_uids: AbstractSet[str]) -> set[str]:
        target = self.dvt.pool.target_of(adapter)
        nodes = self.manifest.nodes
        return {
            u for u in selected_uids if u in nodes and self.dvt.resolve(nodes[u]).target == target
        }

    def get_model_schemas(self, adapter: BaseAdapter, selected_uids: Any) -> Any:
        if self.dvt.multi_target:
            selected_uids = self._on_target(adapter, set(selected_uids))
        return super().get_model_schemas(adapter, selected_uids)  # type: ignore[misc]

    def populate_adapter_cache(self, adapter: BaseAdapter, required_schemas: Any = None) -> None:
        if not self.dvt.multi_target:
            return super().populate_adapter_cache(adapter, required_schemas)  # type: ignore[misc]
        if not self.args.populate_cache:
            return None
        target = self.dvt.pool.target_of(adapter)
        nodes = [
            node
            for node in self.manifest.nodes.values()
            if node.is_relational
            and not node.is_ephemeral_model
            and not node.is_external_node
            and self.dvt.resolve(node).target == target
        ]
        if get_flags().CACHE_SELECTED_ONLY is True:
            adapter.set_relations_cache(nodes, required_schemas=required_schemas)
        else:
            adapter.set_relations_cache(nodes)
        return None

    def before_run(self, adapter: BaseAdapter, selected_uids: AbstractSet[str]) -> Any:
        """Prepare every non-default target of the selection, then run dbt's own before_run;
        meanwhile, a thread opens what the federated nodes will need (`warm_up`)."""
        writes = isinstance(self, RunTask)
        if writes and self.dvt.multi_target:
            self._start_warm_up(selected_uids)
        for target in self._other_targets(selected_uids):
            other = self.dvt.pool.adapter_for(target)
            try:
                with active_adapter(other), other.connection_named("master"):
                    schemas = self.get_model_schemas(other, selected_uids)
                    if writes:
                        self.create_schemas(other, schemas)  # type: ignore[attr-defined]
                    self.populate_adapter_cache(other, schemas)
            except Exception as exc:
                events.warn(
                    TargetUnavailableError.code,
                    f"Target {target!r} is unavailable ({type(exc).__name__}: "
                    f"{self.dvt.redact(str(exc))}). "
                    "Its nodes will fail; nodes on other targets still run.",
                )
        return super().before_run(adapter, selected_uids)  # type: ignore[misc]

    def _start_warm_up(self, selected_uids: AbstractSet[str]) -> None:
        nodes = self.manifest.nodes
        federated = [
            nodes[u]
            for u in sorted(selected_uids)
            if u in nodes and self.dvt.resolve(nodes[u]).is_federated
        ]
        if federated:
            self._warming = threading.Thread(
                target=_warm_up, args=(self.dvt, federated), name="dvt-warm-up", daemon=True
            )
            self._warming.start()
