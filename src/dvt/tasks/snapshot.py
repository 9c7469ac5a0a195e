"""`dvt snapshot`: dbt's SnapshotTask with each node on its own target."""

from __future__ import annotations

from dbt.task.snapshot import SnapshotTask

from dvt.tasks.base import TargetAwareTask


class DvtSnapshotTask(TargetAwareTask, SnapshotTask):
    """dbt\'s SnapshotTask, with each node run on its own target."""
