"""The mixin that makes any dbt graph task target-aware.

dbt builds every runner with the default target's config and adapter. DVT builds the runner of
a node that lives on another target with that target's config and adapter, and makes dbt's
`get_adapter` return that adapter in the worker thread while the node runs. Schemas are created
and the relation cache filled on every target the selection writes to.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Any

from dbt.flags import get_flags
from dbt.task.run import RunTask
from dbt.task.seed import SeedRunner

from dvt import events, invocation
from dvt.dbt_seams.factory import active_adapter
from dvt.exceptions import TargetUnavailableError
from dvt.invocation import Invocation
from dvt.runners.seed import BulkSeedRunner

if TYPE_CHECKING:
    from dbt.adapters.base import BaseAdapter
    from dbt.artifacts.schemas.run import RunResult
    from dbt.task.base import BaseRunner


class TargetAwareTask:
    """Mix in before a dbt graph task: `class DvtRunTask(TargetAwareTask, RunTask)`."""

    config: Any
    manifest: Any
    args: Any

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
        federated nodes clean up their staging before dbt waits for its threads."""
        self.dvt.interrupt()
        super()._cancel_connections(pool)  # type: ignore[misc]

    def call_runner(self, runner: BaseRunner) -> RunResult:
        with active_adapter(runner.adapter):
            result: RunResult = super().call_runner(runner)  # type: ignore[misc]
        if self.dvt.multi_target and runner.node.unique_id in self.manifest.nodes:
            # run_results.json says where every node ran (federated nodes say more already).
            where = self.dvt.resolve(runner.node).to_dict()
            result.adapter_response = {"dvt": where, **(result.adapter_response or {})}
        return result

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
        return super().get_model_schemas(adapter, self._on_target(adapter, set(selected_uids)))  # type: ignore[misc]

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
        """Prepare every non-default target of the selection, then run dbt's own before_run."""
        writes = isinstance(self, RunTask)
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
