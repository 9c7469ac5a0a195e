"""What the resolver decides for each node before anything runs (DESIGN.md section 5)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

#: Where a federated node may be computed (DESIGN.md section 6): `auto` picks the cheaper.
PLACEMENTS = ("auto", "target", "engine")


class ExecutionPath(enum.StrEnum):
    PUSHDOWN = "pushdown"
    FEDERATION = "federation"


@dataclass(frozen=True)
class NodeResolution:
    """Where one node runs and what it reads.

    `inputs` pairs each direct input (a source, or a ref with ephemeral refs expanded to their
    own inputs) with the target it lives on.
    """

    unique_id: str
    target: str
    default_target: str
    path: ExecutionPath
    inputs: tuple[tuple[str, str], ...] = ()
    compute: str | None = None
    bucket: str | None = None
    #: The placement asked for (`auto`, `target`, `engine`); federated nodes only.
    placement: str | None = None

    @property
    def label(self) -> str:
        """`pushdown`, `pushdown:<target>` or `federation`, as `dvt ls` and `dvt plan` show."""
        if self.path is ExecutionPath.FEDERATION:
            return "federation"
        if self.target == self.default_target:
            return "pushdown"
        return f"pushdown:{self.target}"

    @property
    def input_targets(self) -> tuple[str, ...]:
        return tuple(sorted({target for _, target in self.inputs}))

    @property
    def is_federated(self) -> bool:
        return self.path is ExecutionPath.FEDERATION

    def to_dict(self) -> dict[str, object]:
        """The resolution as artifacts show it; `bucket` only when the node stages in one."""
        return {
            "target": self.target,
            "path": self.label,
            "input_targets": list(self.input_targets),
            "compute": self.compute,
            **({"bucket": self.bucket} if self.bucket else {}),
        }
