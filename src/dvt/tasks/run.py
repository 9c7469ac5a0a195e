"""`dvt run`: dbt's RunTask with each node on its own target."""

from __future__ import annotations

from dbt.task.run import RunTask

from dvt.tasks.base import TargetAwareTask


class DvtRunTask(TargetAwareTask, RunTask):
    """dbt\'s RunTask, with each node run on its own target."""
