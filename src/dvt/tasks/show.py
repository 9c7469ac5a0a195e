"""`dvt show`: dbt's ShowTask with each node on its own target."""

from __future__ import annotations

from dbt.task.show import ShowTask

from dvt.tasks.base import TargetAwareTask


class DvtShowTask(TargetAwareTask, ShowTask):
    """dbt\'s ShowTask, with each node run on its own target."""
