"""`dvt build`: dbt's BuildTask with each node on its own target."""

from __future__ import annotations

from dbt.task.build import BuildTask

from dvt.tasks.base import TargetAwareTask


class DvtBuildTask(TargetAwareTask, BuildTask):
    """dbt\'s BuildTask, with each node run on its own target."""
