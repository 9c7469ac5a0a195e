"""`dvt build`: dbt's BuildTask with each node on its own target, a plan event before the run, an
event when the last node of each type finishes, and per-type counts after it."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from dbt.node_types import NodeType
from dbt.task.build import BuildTask

from dvt import events
from dvt.tasks.base import TargetAwareTask, views_as_tables
from dvt.tasks.plan import plan_counts

if TYPE_CHECKING:
    from dbt.artifacts.schemas.run import RunResult
    from dbt.task.base import BaseRunner

#: The node types a build reports on, in the order the summary lists them.
_REPORTED_TYPES = (
    NodeType.Seed,
    NodeType.Model,
    NodeType.Snapshot,
    NodeType.Test,
    NodeType.Unit,
)
#: How a result's status counts; any other status (error, fail, partial success) failed.
_OUTCOMES = {
    "success": "succeeded",
    "pass": "succeeded",
    "no-op": "succeeded",
    "warn": "warned",
    "skipped": "skipped",
}


def type_counts(resource_type: str, total: int, statuses: Iterable[str]) -> events.TypeCounts:
    """How the results of one node type ended."""
    ended = Counter(_OUTCOMES.get(status, "failed") for status in statuses)
    return events.TypeCounts(resource_type, total, **ended)


class DvtBuildTask(TargetAwareTask, BuildTask):
    """dbt's BuildTask, with each node run on its own target."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._planned: dict[str, int] = {}  # selected nodes per type, ephemeral models left out
        self._finished: dict[str, list[str]] = {}  # their statuses so far
        self._finished_lock = threading.Lock()

    def before_run(self, adapter: Any, selected_uids: AbstractSet[str]) -> Any:
        nodes = [self.manifest.nodes[u] for u in selected_uids if u in self.manifest.nodes]
        unit_tests = len(self.selected_unit_tests)  # dbt runs them beside their models
        counts = replace(
            plan_counts((n, self.dvt.resolve(n)) for n in nodes), unit_tests=unit_tests
        )
        self._planned = {
            str(NodeType.Seed): counts.seeds,
            str(NodeType.Model): counts.models,
            str(NodeType.Snapshot): counts.snapshots,
            str(NodeType.Test): counts.tests,
            str(NodeType.Unit): counts.unit_tests,
        }
        self._finished = {kind: [] for kind in self._planned}
        events.build_plan(counts)
        return super().before_run(adapter, selected_uids)

    def call_runner(self, runner: BaseRunner, *args: Any, **kwargs: Any) -> RunResult:
        """dbt's, then `Completed seeds: 3/3 OK (1.2s)` once the last seed has finished."""
        result = super().call_runner(runner, *args, **kwargs)
        kind = str(runner.node.resource_type)
        if kind not in self._planned or getattr(runner.node, "is_ephemeral_model", False):
            return result
        with self._finished_lock:
            statuses = self._finished[kind]
            statuses.append(str(result.status))
            if len(statuses) == self._planned[kind]:
                counts = type_counts(kind, self._planned[kind], statuses)
                events.type_complete(counts, time.time() - self.started_at)
        return result

    def print_results_line(self, results: Any, execution_time: float) -> None:
        with views_as_tables(self.dvt, results):
            super().print_results_line(results, execution_time)
        statuses: dict[str, list[str]] = {str(t): [] for t in _REPORTED_TYPES}
        for result in results:
            statuses.get(str(result.node.resource_type), []).append(str(result.status))
        counts = [
            type_counts(kind, max(self._planned.get(kind, 0), len(ended)), ended)
            for kind, ended in statuses.items()
            if ended or self._planned.get(kind)
        ]
        events.build_complete(counts, execution_time)
