"""`dvt compile`: dbt's CompileTask with each node on its own target."""

from __future__ import annotations

from dbt.task.compile import CompileTask

from dvt.tasks.base import TargetAwareTask


class DvtCompileTask(TargetAwareTask, CompileTask):
    """dbt\'s CompileTask, with each node run on its own target."""
