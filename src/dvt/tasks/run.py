"""`dvt run`: dbt's RunTask with each node on its own target."""

from __future__ import annotations

from typing import Any

from dbt.task.run import RunTask

from dvt.tasks.base import TargetAwareTask, views_as_tables


class DvtRunTask(TargetAwareTask, RunTask):
    """dbt's RunTask, with each node run on its own target."""

    def print_results_line(self, results: Any, execution_time: Any) -> None:
        with views_as_tables(self.dvt, results):
            super().print_results_line(results, execution_time)
