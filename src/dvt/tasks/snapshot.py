"""`dvt snapshot`: dbt's SnapshotTask with each node on its own target."""

from __future__ import annotations

from dbt.task.snapshot import SnapshotTask

from dvt.tasks.base import TargetAwareTask


class DvtSnapshotTask(TargetAwareTask, SnapshotTask):
    """dbt's SnapshotTask; nodes whose target is not the default run through their target's adapter."""
