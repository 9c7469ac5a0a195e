"""`dvt test`: dbt's TestTask with each node on its own target."""

from __future__ import annotations

from dbt.task.test import TestTask

from dvt.tasks.base import TargetAwareTask


class DvtTestTask(TargetAwareTask, TestTask):
    """dbt\'s TestTask, with each node run on its own target."""
