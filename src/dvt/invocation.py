"""The state of one `dvt` invocation: targets, computes, adapter pool and node resolutions.

It starts when dbt's manifest loader finishes (or when a task first asks, if the manifest was
handed in), and ends with the CLI invocation, which closes every adapter it opened.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from dbt.flags import get_flags
from dbt.node_types import NodeType
from dbt.parser.base import RelationUpdate

from dvt import engines, events
from dvt.config.buckets import Buckets
from dvt.config.computes import Computes
from dvt.config.targets import ProfileTargets
from dvt.connections import KeptConnections
from dvt.dbt_seams.factory import active_adapter
from dvt.dbt_seams.pool import TargetPool
from dvt.exceptions import InterruptedNodeError
from dvt.resolution.models import NodeResolution
from dvt.resolution.resolver import WRITTEN_TYPES, Resolver
from dvt.scratch import Scratch

if TYPE_CHECKING:
    from dbt.config.runtime import RuntimeConfig
    from dbt.contracts.graph.manifest import Manifest

    from dvt.engines.base import Engine

_CURRENT: Invocation | None = None

#: Node types whose relation names DVT recomputes with their own target's config.
_REHOMED_TYPES = WRITTEN_TYPES | {NodeType.Test}


class Invocation:
    """Everything DVT adds to one dbt invocation."""

    def __init__(self, config: RuntimeConfig) -> None:
        flags = get_flags()
        self.config = config
        self.targets = ProfileTargets.load(config.profile_name, config.target_name, config.cli_vars)
        self.computes = Computes.load(flags.PROFILES_DIR, config.profile_name)
        self.buckets = Buckets.load(flags.PROFILES_DIR, config.profile_name)
        self.pool = TargetPool(config, self.targets)
        self.manifest: Manifest | None = None
        self.resolver: Resolver | None = None
        self._engines: dict[str, Engine] = {}
        self._engines_lock = threading.Lock()
        self._on_interrupt: list[Callable[[], None]] = []
        #: Set on Ctrl-C: a federated node stops between its steps (`stop_if_interrupted`).
        self.interrupted = threading.Event()
        #: Facts about relations, read once per invocation: (kind, target, key) -> value.
        self._facts: dict[tuple[str, str, Any], Any] = {}
        self._facts_lock = threading.Lock()
        #: Imports several selected nodes read, while they run (`execution.imports`).
        self.shared_imports: Any = None
        self._homes: dict[tuple[str, str, str], set[str]] | None = None
        #: The targets this invocation writes scratch relations to, and its proofs of life.
        self.scratch = Scratch(self.redact)
        #: Connections of DVT's own between the loads of its nodes (PostgreSQL's COPY).
        self.kept_connections = KeptConnections()

    @property
    def multi_target(self) -> bool:
        return len(self.targets.specs) > 1

    def attach(self, manifest: Manifest) -> None:
        """Validate names, resolve every node and give each node its own target's relation."""
        flags = get_flags()
        self.manifest = manifest
        self.resolver = Resolver(
            manifest,
            self.targets,
            self.computes,
            self.buckets,
            force_default_target=getattr(flags, "TARGET", None) is not None,
            compute_override=getattr(flags, "COMPUTE", None),
            bucket_override=getattr(flags, "BUCKET", None),
            placement_override=getattr(flags, "PLACEMENT", None),
        )
        self.resolver.validate()
        self.pool.bind_manifest(manifest)
        self._rehome_sources(manifest)
        self._rehome_nodes(manifest)
        self._homes = None
        if self.multi_target:
            self.pool.adapter_for(self.targets.default)  # dbt's own, registered before parsing
            self.pool.prepare_adapters(self._answer_for_other_targets)

    def _answer_for_other_targets(self, target: str, adapter: Any) -> None:
        from dvt.dbt_seams.columns import answer_for_other_targets

        answer_for_other_targets(
            adapter,
            target,
            self.home_of,
            self.pool.adapter_for,
            self._dialect,
            self._source_only_columns,
        )

    def _source_only_columns(
        self, home: str, relation: Any, dialect: str
    ) -> Sequence[tuple[str, str]] | None:
        """(name, type) of a relation's columns on a source-only target, typed as an import of
        it is on a target of `dialect` (read once per invocation); None for a target with a
        dbt adapter, which describes its own relations."""
        spec = self.targets[home]
        if not spec.source_only:
            return None
        from dvt.connectors.standalone import import_columns
        from dvt.planning.models import RelationKey  # SQLGlot: only once a fixture needs it

        key = RelationKey(relation.database or "", relation.schema or "", relation.identifier)
        return self.columns(home, (key, dialect), lambda _: import_columns(spec, key, dialect))

    def _dialect(self, target: str) -> str:
        from dvt import connectors

        return connectors.for_target(self.targets[target]).dialect

    def home_of(self, relation: Any) -> str | None:
        """The target a relation of the manifest lives on (by database, schema and name), when
        a dbt adapter or a DVT connector reads it; None for a relation of no target, or of
        several."""
        if self._homes is None:
            self._homes = self._relation_homes()
        homes = self._homes.get(
            _relation_key(relation.database, relation.schema, relation.identifier)
        )
        if not homes or len(homes) != 1:
            return None
        (home,) = homes
        spec = self.targets.specs[home]
        return home if spec.has_dbt_adapter or spec.source_only else None

    def _relation_homes(self) -> dict[tuple[str, str, str], set[str]]:
        assert self.manifest is not None and self.resolver is not None
        homes: dict[tuple[str, str, str], set[str]] = {}
        for source in self.manifest.sources.values():
            key = _relation_key(source.database, source.schema, source.identifier)
            homes.setdefault(key, set()).add(self.resolver.connection_of(source))
        for node in self.manifest.nodes.values():
            if node.resource_type in WRITTEN_TYPES and not node.is_ephemeral_model:
                key = _relation_key(node.database, node.schema, node.alias)
                homes.setdefault(key, set()).add(self.resolve(node).target)
        return homes

    def resolve(self, node: Any) -> NodeResolution:
        assert self.resolver is not None, "resolve() before the manifest was attached"
        return self.resolver.resolve(node)

    def targets_in_use(self, unique_ids: Iterable[str]) -> set[str]:
        assert self.manifest is not None
        nodes = self.manifest.nodes
        return {self.resolve(nodes[uid]).target for uid in unique_ids if uid in nodes}

    def _rehome_sources(self, manifest: Manifest) -> None:
        assert self.resolver is not None
        for source in manifest.sources.values():
            target = self.resolver.connection_of(source)
            if target == self.targets.default or self.targets[target].source_only:
                continue
            config = self.pool.config_for(target)
            if not source.unrendered_database:
                source.database = config.credentials.database
            adapter = self.pool.adapter_for(target)
            source.relation_name = str(adapter.Relation.create_from(config, source))  # type: ignore[arg-type]

    def _rehome_nodes(self, manifest: Manifest) -> None:
        by_target: dict[str, list[Any]] = {}
        for node in manifest.nodes.values():
            if node.resource_type not in _REHOMED_TYPES:
                continue
            target = self.resolve(node).target
            if target != self.targets.default:
                by_target.setdefault(target, []).append(node)
        for target, nodes in by_target.items():
            config = self.pool.config_for(target)
            adapter = self.pool.adapter_for(target)
            with active_adapter(adapter):
                updaters = {
                    c: RelationUpdate(config, manifest, c) for c in ("database", "schema", "alias")
                }
                for node in nodes:
                    for component, update in updaters.items():
                        update(node, node.config.get(component))
                    if node.resource_type == NodeType.Snapshot:
                        node.database = node.config.get("target_database") or node.database
                        node.schema = node.config.get("target_schema") or node.schema
                    if node.is_relational and not node.is_ephemeral_model:
                        node.relation_name = str(adapter.Relation.create_from(config, node))

    def engine(self, compute: str) -> Engine:
        """The started engine of a compute: started once, when the first node needs it."""
        with self._engines_lock:
            if compute not in self._engines:
                spec = self.computes.require(compute, used_by="A federated node")
                events.engine_starting(spec.name, spec.type)
                engine = engines.create(spec)
                engine.start()
                self._engines[compute] = engine
            return self._engines[compute]

    def columns(
        self, target: str, key: Any, read: Callable[[Any], Sequence[tuple[str, str]]]
    ) -> Sequence[tuple[str, str]]:
        """A relation's (name, type) columns on a target, read once per invocation."""
        return self._fact("columns", target, key, read)

    def estimated_rows(
        self, target: str, key: Any, read: Callable[[Any], int | None]
    ) -> int | None:
        """A relation's row estimate on a target, read once per invocation."""
        return self._fact("rows", target, key, read)

    def _fact(self, kind: str, target: str, key: Any, read: Callable[[Any], Any]) -> Any:
        """What `read` says of a relation, asked once per invocation: a node's inputs are built
        before it runs, and stay as they are while it and the nodes after it read them."""
        with self._facts_lock:
            if (kind, target, key) in self._facts:
                return self._facts[(kind, target, key)]
        found = read(key)
        if found is not None:  # an unknown (a table not analyzed yet) is asked again
            with self._facts_lock:
                self._facts[(kind, target, key)] = found
        return found

    def on_interrupt(self, cancel: Callable[[], None]) -> None:
        """Register how to cancel work that an engine interrupt alone does not stop."""
        self._on_interrupt.append(cancel)

    @contextlib.contextmanager
    def interruptible(self, cancel: Callable[[], None]) -> Iterator[None]:
        """`cancel` stops the work of the block on Ctrl-C (`on_interrupt`, for the block only)."""
        self._on_interrupt.append(cancel)
        try:
            yield
        finally:
            self._on_interrupt.remove(cancel)

    def interrupt(self) -> None:
        """Cancel what runs on engines and non-default targets (dbt cancels the default's).

        Each step is tried whatever the others do: this runs on Ctrl-C, where an exception
        would replace dbt's own cancellation and exit with a traceback."""
        self.interrupted.set()  # first: a node between two steps must not start the next
        steps = [engine.interrupt for engine in self._engines.values()]
        steps += [*self._on_interrupt, self.pool.cancel_open_connections]
        for step in steps:
            try:
                step()
            except Exception as exc:
                name = getattr(step, "__qualname__", repr(step))
                events.debug(f"Interrupt step {name} failed: {self.redact(str(exc))}")

    def stop_if_interrupted(self, node_id: str) -> None:
        """Raise for a node about to take its next step after Ctrl-C: an import that ended as
        the signal came must not be followed by the node's write."""
        if self.interrupted.is_set():
            raise InterruptedNodeError(node_id)

    def redact(self, text: str) -> str:
        """`text` without any secret of the profile (passwords, tokens, keys)."""
        return self.buckets.redact(self.targets.redact(text))

    def close(self) -> None:
        self.scratch.close()
        self.kept_connections.close()
        for engine in self._engines.values():
            engine.stop()
        self._engines.clear()
        self.pool.close()


def _relation_key(database: Any, schema: Any, name: Any) -> tuple[str, str, str]:
    return (str(database or "").lower(), str(schema or "").lower(), str(name or "").lower())


def start(config: RuntimeConfig) -> Invocation:
    """Begin DVT's part of the invocation (idempotent per invocation)."""
    global _CURRENT
    if _CURRENT is None or _CURRENT.config is not config:
        _CURRENT = Invocation(config)
    return _CURRENT


def get() -> Invocation:
    """The running invocation (runners call this; tasks use `current`)."""
    if _CURRENT is None:
        raise RuntimeError("No DVT invocation is running")
    return _CURRENT


def current(config: RuntimeConfig, manifest: Manifest) -> Invocation:
    """The invocation for `config`, attached to `manifest` (for manifests handed in by callers)."""
    invocation = start(config)
    if invocation.manifest is not manifest:
        invocation.attach(manifest)
    return invocation


def mark_interrupted() -> None:
    """Ctrl-C (or SIGTERM) arrived: the running invocation's nodes stop between their steps."""
    if _CURRENT is not None:
        _CURRENT.interrupted.set()


def end() -> None:
    """Close every adapter DVT opened; called when the CLI invocation finishes."""
    global _CURRENT
    if _CURRENT is not None:
        _CURRENT.close()
    _CURRENT = None
