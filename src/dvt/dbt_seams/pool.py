"""One dbt adapter per target, created on first use and closed at the end of the invocation."""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from dbt.adapters.contracts.connection import ConnectionState
from dbt.adapters.factory import FACTORY, get_adapter
from dbt.config.profile import Profile, read_profile
from dbt.config.renderer import ProfileRenderer
from dbt.context.providers import generate_runtime_macro_context
from dbt.context.query_header import generate_query_header_context
from dbt.flags import get_flags
from dbt.mp_context import get_mp_context

from dvt import events
from dvt.config.targets import ProfileTargets
from dvt.dbt_seams.factory import DvtAdapterContainer
from dvt.dbt_seams.isolation import isolated_adapter_class, release

if TYPE_CHECKING:
    from dbt.adapters.base import BaseAdapter
    from dbt.config.runtime import RuntimeConfig
    from dbt.contracts.graph.manifest import Manifest


class TargetPool:
    """Runtime configs and adapters per target; the default target uses dbt's own adapter."""

    def __init__(self, config: RuntimeConfig, targets: ProfileTargets) -> None:
        self.default_config = config
        self.targets = targets
        self._configs: dict[str, RuntimeConfig] = {targets.default: config}
        self._adapters: dict[str, BaseAdapter] = {}
        self._manifest: Manifest | None = None
        self._lock = threading.RLock()
        #: Called with each adapter (and its target) once the invocation's manifest is known.
        self._prepare: Callable[[str, BaseAdapter], None] | None = None

    def load_plugins(self) -> list[str]:
        """Load the dbt plugin of every adapter-backed output; return the types loaded."""
        types = sorted({s.type for s in self.targets.specs.values() if s.has_dbt_adapter})
        for adapter_type in types:
            FACTORY.load_plugin(adapter_type)
        DvtAdapterContainer.profile_types = tuple(types)
        return types

    def config_for(self, name: str) -> RuntimeConfig:
        """dbt's `RuntimeConfig` with the credentials of output `name` (same project, flags)."""
        with self._lock:
            if name not in self._configs:
                self.targets.require_writable(name, used_by=f"Target {name!r}")
                raw = read_profile(get_flags().PROFILES_DIR)[self.targets.profile_name]
                renderer = ProfileRenderer(dict(self.default_config.cli_vars))
                profile = Profile.from_raw_profile_info(
                    raw, self.targets.profile_name, renderer, target_override=name
                )
                self._configs[name] = dataclasses.replace(
                    self.default_config,
                    target_name=name,
                    credentials=profile.credentials,
                    profile_env_vars=profile.profile_env_vars,
                )
            return self._configs[name]

    def adapter_for(self, name: str) -> BaseAdapter:
        """The adapter of target `name`; connections still open lazily, as in dbt."""
        with self._lock:
            if name not in self._adapters:
                config = self.config_for(name)
                if name == self.targets.default:
                    adapter = get_adapter(config)
                else:
                    FACTORY.load_plugin(config.credentials.type)
                    plugin = FACTORY.plugins[config.credentials.type]
                    adapter_cls = isolated_adapter_class(plugin.adapter, name)
                    adapter = adapter_cls(config, get_mp_context())
                    adapter.set_macro_context_generator(generate_runtime_macro_context)
                    if self._manifest is not None:
                        self._bind(adapter, config, self._manifest)
                self._adapters[name] = adapter
                if self._prepare is not None:
                    self._prepare(name, adapter)
            return self._adapters[name]

    def prepare_adapters(self, prepare: Callable[[str, BaseAdapter], None]) -> None:
        """Call `prepare` with every adapter, now and as each is created."""
        with self._lock:
            self._prepare = prepare
            for name, adapter in self._adapters.items():
                prepare(name, adapter)

    def target_of(self, adapter: BaseAdapter) -> str:
        for name, known in self._adapters.items():
            if known is adapter:
                return name
        return self.targets.default

    def bind_manifest(self, manifest: Manifest) -> None:
        """Give every non-default adapter the manifest's macros and query header."""
        with self._lock:
            self._manifest = manifest
            for name, adapter in self._adapters.items():
                if name != self.targets.default:
                    self._bind(adapter, self._configs[name], manifest)

    @staticmethod
    def _bind(adapter: BaseAdapter, config: RuntimeConfig, manifest: Manifest) -> None:
        adapter.set_macro_resolver(manifest)
        adapter.connections.set_query_header(generate_query_header_context(config, manifest))

    def cancel_open_connections(self) -> None:
        """Cancel running queries on every non-default target (dbt cancels the default's).

        Only adapters with an open connection are touched: one that was created (to name a
        node's relation) but never connected has nothing to cancel, and asking it anything
        may fail (dbt-duckdb has no environment before its first connection). A target whose
        cancel fails does not stop the others'."""
        with self._lock:
            adapters = {n: a for n, a in self._adapters.items() if n != self.targets.default}
        for name, adapter in adapters.items():
            if not _has_open_connection(adapter):
                continue
            try:
                if adapter.is_cancelable():
                    with adapter.connection_named("master"), cancels_skip_closed(adapter):
                        adapter.cancel_open_connections()
            except Exception as exc:
                failure = self.targets.redact(f"{type(exc).__name__}: {exc}")
                events.debug(f"Cancelling the queries on target {name!r} failed: {failure}")

    def close(self) -> None:
        """Release every non-default adapter's connections (dbt closes the default one)."""
        with self._lock:
            for name, adapter in self._adapters.items():
                if name != self.targets.default:
                    adapter.cleanup_connections()
                    release(adapter)
            self._adapters.clear()


@contextlib.contextmanager
def cancels_skip_closed(adapter: BaseAdapter) -> Iterator[None]:
    """Within this block, a cancel of one of `adapter`'s connections that fails is logged and
    skipped, and the others are still cancelled.

    dbt's cancel loop (`SQLConnectionManager.cancel_open`) reads each connection's state
    under its lock, but a node's thread closes its connection without it: a node that ends as
    Ctrl-C comes (DVT's own interrupt makes that likely) can leave a closed handle marked
    open, and dbt-duckdb's cancel of it raises "Connection already closed!", which would
    replace dbt's Ctrl-C exit with a traceback."""
    manager: Any = adapter.connections
    cancel = manager.cancel

    def cancel_unless_closed(connection: Any) -> None:
        try:
            cancel(connection)
        except Exception as exc:
            events.debug(f"Cancelling connection {connection.name!r} failed (it closed?): {exc}")

    manager.cancel = cancel_unless_closed
    try:
        yield
    finally:
        del manager.cancel


def _has_open_connection(adapter: BaseAdapter) -> bool:
    """Whether some thread of `adapter` holds an open connection (dbt opens them lazily)."""
    connections = adapter.connections
    with connections.lock:
        return any(c.state == ConnectionState.OPEN for c in connections.thread_connections.values())
