"""`dvt build`: dbt's BuildTask with each node on its own target, a plan line before the run
and per-type counts after it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Set as AbstractSet
from typing import Any

from dbt.node_types import NodeType
from dbt.task.build import BuildTask

from dvt import events
from dvt.tasks.base import TargetAwareTask
from dvt.tasks.plan import plan_line

_SUMMARY_ORDER = (
    (NodeType.Seed, "seeds"),
    (NodeType.Model, "models"),
    (NodeType.Snapshot, "snapshots"),
    (NodeType.Test, "tests"),
)
_DONE = {"success", "pass"}


class DvtBuildTask(TargetAwareTask, BuildTask):
    """dbt's BuildTask, with each node run on its own target."""

    def before_run(self, adapter: Any, selected_uids: AbstractSet[str]) -> Any:
        nodes = [self.manifest.nodes[u] for u in selected_uids if u in self.manifest.nodes]
        events.info(plan_line((n, self.dvt.resolve(n)) for n in nodes))
        return super().before_run(adapter, selected_uids)

    def print_results_line(self, results: Any, execution_time: float) -> None:
        super().print_results_line(results, execution_time)
        totals: Counter[str] = Counter()
        done: Counter[str] = Counter()
        for result in results:
            kind = str(result.node.resource_type)
            totals[kind] += 1
            done[kind] += str(result.status) in _DONE
        parts = [f"{name}: {done[t]}/{totals[t]}" for t, name in _SUMMARY_ORDER if totals[t]]
        events.info(f"Build complete in {execution_time:.1f}s - {', '.join(parts)}")
