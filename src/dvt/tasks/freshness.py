"""`dvt source freshness`: each source is checked on its own connection."""

from __future__ import annotations

from typing import Any

from dbt.task.base import BaseRunner
from dbt.task.freshness import FreshnessTask

from dvt import events
from dvt.exceptions import TargetUnavailableError
from dvt.tasks.base import TargetAwareTask


class DvtFreshnessTask(TargetAwareTask, FreshnessTask):
    """dbt's FreshnessTask, with each source's query sent to the target it lives on."""

    def get_runner(self, node: Any) -> BaseRunner:
        target = self.dvt.resolve(node).target
        if self.dvt.targets[target].source_only:
            events.warn(
                TargetUnavailableError.code,
                f"{node.unique_id} lives on source-only connection {target!r}; its freshness is "
                "checked on the default target's adapter, which cannot reach it.",
            )
            return FreshnessTask.get_runner(self, node)
        runner = super().get_runner(node)
        runner.set_metadata_freshness_cache(self._metadata_freshness_cache)  # type: ignore[attr-defined]
        return runner
