"""`dvt test`: dbt's TestTask with each node on its own target."""

from __future__ import annotations

from dbt.task.test import TestTask

from dvt.tasks.base import TargetAwareTask


class DvtTestTask(TargetAwareTask, TestTask):
    """dbt's TestTask; nodes whose target is not the default run through their target's adapter."""
