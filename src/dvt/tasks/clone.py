"""`dvt clone`: dbt's CloneTask with each node cloned on its own target.

dbt creates the schemas and fills the relation cache of every selected node, and of its state
relation, through the default target's adapter; in a multi-target project that asks PostgreSQL
about DuckDB's databases. Here each target the selection uses gets its own nodes' schemas, and
a node whose state relation lives on another target than the node fails with DVT110: a clone
is a relation of the node's own database over the state's, which cannot span two databases.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from typing import Any

from dbt.artifacts.schemas.results import RunStatus
from dbt.task.clone import CloneRunner, CloneTask
from dbt.task.runnable import GraphRunnableTask

from dvt import invocation
from dvt.dbt_seams.factory import active_adapter
from dvt.exceptions import DvtError
from dvt.tasks.base import TargetAwareTask


class StateOnAnotherTargetError(DvtError):
    code = "DVT110"


def database_of(dvt: Any, target: str) -> str:
    """A target's database name, lowercased (as relations are compared)."""
    return str(dvt.pool.config_for(target).credentials.database or "").lower()


def targets_of_database(dvt: Any, database: str | None) -> list[str]:
    """The adapter-backed targets whose database is `database` (case-insensitive)."""
    wanted = (database or "").lower()
    return [
        name
        for name, spec in dvt.targets.specs.items()
        if spec.has_dbt_adapter and database_of(dvt, name) == wanted
    ]


class DvtCloneRunner(CloneRunner):
    """dbt's CloneRunner, refusing a state relation that lives on another target."""

    def execute(self, model: Any, manifest: Any) -> Any:
        dvt = invocation.get()
        state = getattr(model, "defer_relation", None)
        if state is not None and dvt.multi_target:
            target = dvt.resolve(model).target
            homes = targets_of_database(dvt, state.database)
            if homes and target not in homes:
                raise StateOnAnotherTargetError(
                    f"{model.unique_id} ({model.original_file_path}) lives on target "
                    f"{target!r}, but its state relation {state.database}.{state.schema}."
                    f"{state.alias} lives on {', '.join(repr(h) for h in homes)}: a clone cannot "
                    "span two databases. Build the node (dvt run --select "
                    f"{model.name}) or clone from state built with the same targets."
                )
        return super().execute(model, manifest)


class DvtCloneTask(TargetAwareTask, CloneTask):
    """dbt's CloneTask, with schemas created and relations cached on each node's target."""

    def get_runner_type(self, node: Any) -> type[CloneRunner]:
        return DvtCloneRunner

    def before_run(self, adapter: Any, selected_uids: AbstractSet[str]) -> RunStatus:
        if not self.dvt.multi_target:
            return CloneTask.before_run(self, adapter, selected_uids)
        with adapter.connection_named("master"):
            self.defer_to_manifest()
        for target in sorted(self.dvt.targets_in_use(selected_uids)):
            other = self.dvt.pool.adapter_for(target)
            database = database_of(self.dvt, target)
            with active_adapter(other), other.connection_named("master"):
                on_target = self._on_target(other, set(selected_uids))
                self.create_schemas(
                    other, GraphRunnableTask.get_model_schemas(self, other, on_target)
                )
                cached = {
                    s
                    for s in CloneTask.get_model_schemas(self, other, on_target)
                    if str(s.database or "").lower() == database
                }
                self.populate_adapter_cache(other, cached)
        return RunStatus.Success
