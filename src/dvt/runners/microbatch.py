"""The batches of a microbatch model: dbt builds each batch's runner itself
(`RunTask._submit_batch`); a batch of a federated model is run by the federated batch runner,
so each batch reads its inputs with that batch's event-time window (dbt renders it into the
batch's compiled SQL and the planner pushes it into every input's read)."""

from __future__ import annotations

import functools
from typing import Any

from dbt.task.run import MicrobatchBatchRunner

from dvt import invocation


class DvtMicrobatchBatchRunner(MicrobatchBatchRunner):
    """dbt's batch runner, with the model's target's config, or the federated one for a batch
    of a federated model (SQLGlot loads only then)."""

    def __new__(cls, config: Any, adapter: Any, node: Any, *args: Any, **kwargs: Any) -> Any:
        if cls is DvtMicrobatchBatchRunner and invocation.get().resolve(node).is_federated:
            cls = federated_batch_runner()
        return super().__new__(cls)

    def __init__(self, config: Any, adapter: Any, node: Any, *args: Any, **kwargs: Any) -> None:
        # dbt builds a batch's runner with the default target's config; the model's runner had
        # its own target's (`TargetAwareTask.get_runner`).
        dvt = invocation.get()
        if dvt.multi_target:
            config = dvt.pool.config_for(dvt.resolve(node).target)
        super().__init__(config, adapter, node, *args, **kwargs)


@functools.cache
def federated_batch_runner() -> type[DvtMicrobatchBatchRunner]:
    """The runner of one batch of a federated model, made on first use: the federation
    runners import SQLGlot and the engines, which a project without federation never loads."""
    from dvt.runners.federation import FederatedRunnerMixin

    class FederatedMicrobatchBatchRunner(FederatedRunnerMixin, DvtMicrobatchBatchRunner):
        """One batch of a federated microbatch model: its compiled SQL (with the batch's
        event-time window) is planned and its inputs read for that window only; dbt's
        microbatch materialization writes the batch on the target."""

    return FederatedMicrobatchBatchRunner
