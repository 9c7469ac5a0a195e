"""`dvt seed`: dbt's SeedTask with each node on its own target."""

from __future__ import annotations

from dbt.task.seed import SeedTask

from dvt.tasks.base import TargetAwareTask


class DvtSeedTask(TargetAwareTask, SeedTask):
    """dbt\'s SeedTask, with each node run on its own target."""
