"""The engine interface: start once per invocation, give each node a session, stop at the end."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

from dvt.config.computes import ComputeSpec

if TYPE_CHECKING:
    from dvt.connectors.base import Connector, NodeContext
    from dvt.planning.models import FederationPlan, RelationKey


class Engine(ABC):
    """A compute engine. Sessions are per node (and so per thread); the engine is shared."""

    #: SQLGlot dialect of the SQL the planner writes for this engine.
    dialect: ClassVar[str]

    def __init__(self, spec: ComputeSpec) -> None:
        self.spec = spec

    @property
    def name(self) -> str:
        return self.spec.name

    @abstractmethod
    def start(self) -> None: ...

    @abstractmethod
    def session(self) -> Any:
        """A connection for one node's work (registered inputs are private to it)."""

    @abstractmethod
    def release(self, session: Any) -> None:
        """Close a session."""

    @abstractmethod
    def interrupt(self) -> None:
        """Cancel every running query (Ctrl-C, --fail-fast)."""

    @abstractmethod
    def stop(self) -> None: ...

    @abstractmethod
    def materialize(
        self,
        session: NodeContext,
        plan: FederationPlan,
        target: Connector,
        relation: RelationKey,
        *,
        typed_sql: str | None = None,
        logged: bool = False,
    ) -> int:
        """Compute `plan` and write its result into `relation` on the target; return rows.
        `typed_sql` and `logged` are the target's `Connector.stage` options."""

    @abstractmethod
    def fetch(self, session: NodeContext, plan: FederationPlan, limit: int | None) -> Any:
        """Compute `plan` and return (at most `limit` rows of) its result as an Arrow table."""
