"""The engine interface: start once per invocation, give each node a session, stop at the end."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from dvt.config.computes import ComputeSpec


class Engine(ABC):
    """A compute engine. Sessions are per node (and so per thread); the engine is shared."""

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
