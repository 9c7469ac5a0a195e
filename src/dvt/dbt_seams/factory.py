"""The adapter factory seam: one adapter per *target*, where dbt keeps one per adapter *type*.

dbt code everywhere calls `get_adapter(config)`, which becomes `FACTORY.lookup_adapter(type)`.
While DVT runs a node on a target, `active_adapter(adapter)` makes that lookup return the target's
own adapter instance, so two outputs of one type (two PostgreSQL databases) each keep theirs.

Macros of every adapter type the profile uses are parsed into one manifest. An adapter package
may define un-prefixed macros (dbt-duckdb overrides `create_table_as`), so each adapter type sees
the packages of other types only behind its own and the global project.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar, copy_context
from typing import TYPE_CHECKING, Any

from dbt.adapters.factory import FACTORY, AdapterContainer
from dbt_common.utils.executor import MultiThreadedExecutor

if TYPE_CHECKING:
    from dbt.adapters.base import BaseAdapter

_ACTIVE_ADAPTER: ContextVar[BaseAdapter | None] = ContextVar("dvt_active_adapter", default=None)


class DvtAdapterContainer(AdapterContainer):
    """dbt's `AdapterContainer` with per-target lookups and per-type macro precedence."""

    #: Adapter types of the active profile's outputs, set when the invocation loads them.
    profile_types: tuple[str, ...] = ()

    def lookup_adapter(self, name: str) -> BaseAdapter:  # type: ignore[override]
        active = _ACTIVE_ADAPTER.get()
        if active is not None and active.type() == name:
            return active
        return super().lookup_adapter(name)  # type: ignore[return-value]

    def get_adapter_package_names(self, name: str | None) -> list[str]:
        own = AdapterContainer.get_adapter_package_names(self, name)
        others = [
            package
            for other in self.profile_types
            if other != name
            for package in AdapterContainer.get_adapter_package_names(self, other)
            if package not in own
        ]
        return own + list(dict.fromkeys(others))


class ContextCopyingExecutor(MultiThreadedExecutor):
    """dbt's helper thread pool, whose tasks see the submitting thread's active adapter.

    Adapters list schemas and relations in helper threads (`dbt_common.utils.executor`); without
    the submitter's context those threads would look up the default adapter of the type.
    """

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        return super().submit(copy_context().run, fn, *args, **kwargs)


@contextlib.contextmanager
def active_adapter(adapter: BaseAdapter) -> Iterator[BaseAdapter]:
    """Within this block (and this thread), dbt's `get_adapter` for its type returns `adapter`."""
    token = _ACTIVE_ADAPTER.set(adapter)
    try:
        yield adapter
    finally:
        _ACTIVE_ADAPTER.reset(token)


@contextlib.contextmanager
def per_target_factory() -> Iterator[None]:
    """Install `DvtAdapterContainer` as the class of dbt's adapter factory singleton."""
    original = type(FACTORY)
    if original is not AdapterContainer and original is not DvtAdapterContainer:
        raise RuntimeError(f"dbt's adapter factory is a {original!r}; the DVT seam moved")
    FACTORY.__class__ = DvtAdapterContainer
    try:
        yield
    finally:
        FACTORY.__class__ = original
        DvtAdapterContainer.profile_types = ()
