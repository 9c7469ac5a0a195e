"""Imports that several federated nodes of one invocation share (DESIGN.md section 6).

An input that two or more selected nodes on one target read from another target is imported
there once per distinct filter, with every column that some selected node's SQL names, when it
is small enough that loading it costs less than each reader's own import: readers with the same
filter (or none) share one import. The model SQL keeps its filters and columns, so a wider
import never changes an answer (a reader that needs a column no model names, through a macro,
imports its own); a filter
stays pushed, so the target still plans over the rows the model keeps. The imports of an input
are dropped when the last node that reads it ends, or when the invocation does (a reader skipped
after a failure never ends).
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dvt import events
from dvt.dbt_seams.factory import active_adapter

if TYPE_CHECKING:
    from dvt.invocation import Invocation
    from dvt.planning.models import RelationKey
    from dvt.resolution.models import NodeResolution

#: Cells (rows x columns) a shared import may hold per node that reads it: loading that many
#: costs about what one import's fixed work does (create, type, analyze, drop: ~50 ms).
CELLS_PER_READER = 250_000


@dataclass(frozen=True)
class ImportKey:
    """One input, imported into one target."""

    target: str
    input: str  # the input's unique_id


def remote_inputs(resolution: NodeResolution) -> set[ImportKey]:
    """The inputs a federated node imports when it runs on its target."""
    if not resolution.is_federated:
        return set()
    return {
        ImportKey(resolution.target, unique_id)
        for unique_id, target in resolution.inputs
        if target != resolution.target
    }


class SharedImports:
    """The invocation's shared imports: who still reads each input, and where each of its reads
    was loaded (one import per distinct read of an input: its filter, the columns named)."""

    def __init__(self, resolutions: Iterable[NodeResolution], sql: Iterable[str] = ()) -> None:
        """`resolutions`: every node the invocation selected; `sql`: their code, whose words
        name the columns a shared import holds (`columns`)."""
        self.words = frozenset(w.lower() for text in sql for w in re.findall(r"\w+", text))
        self._readers: Counter[ImportKey] = Counter()
        for resolution in resolutions:
            self._readers.update(remote_inputs(resolution))
        self._loaded: dict[ImportKey, dict[str, RelationKey]] = {}
        self._loading: dict[tuple[ImportKey, str], threading.Lock] = {}
        self._ended: set[str] = set()
        self._lock = threading.Lock()

    def columns(self, names: Iterable[str]) -> tuple[str, ...]:
        """Of an input's columns, those some selected node's SQL names (a word of it)."""
        return tuple(name for name in names if name.lower() in self.words)

    def readers(self, key: ImportKey) -> int:
        """Selected nodes that read the input and have not ended yet."""
        with self._lock:
            return self._readers[key]

    def loaded(self, key: ImportKey, read: str) -> bool:
        """Whether a reader has loaded this read of the input already."""
        with self._lock:
            return read in self._loaded.get(key, {})

    def claim(self, key: ImportKey, read: str, load: Callable[[], RelationKey]) -> RelationKey:
        """The shared import of one read of an input (`read`: its SQL): loaded by the first
        reader that asks (the others wait for it); a load that fails leaves it to the next."""
        with self._lock:
            loading = self._loading.setdefault((key, read), threading.Lock())
        with loading:
            with self._lock:
                found = self._loaded.get(key, {}).get(read)
            if found is None:
                found = load()
                with self._lock:
                    self._loaded.setdefault(key, {})[read] = found
            return found

    def release(self, resolution: NodeResolution) -> list[RelationKey]:
        """A node ended: the shared imports no node still to run reads, to drop now. A node
        ends once: a microbatch model's later batches are not counted again (what they load
        anew is dropped with the invocation)."""
        done: list[RelationKey] = []
        with self._lock:
            if resolution.unique_id in self._ended:
                return done
            self._ended.add(resolution.unique_id)
            for key in remote_inputs(resolution):
                self._readers[key] -= 1
                if self._readers[key] <= 0:
                    done.extend(self._loaded.pop(key, {}).values())
        return done

    def remaining(self) -> dict[str, list[RelationKey]]:
        """Every import still loaded, per target (for the end of the invocation); forgotten."""
        with self._lock:
            loaded, self._loaded = self._loaded, {}
        by_target: dict[str, list[RelationKey]] = {}
        for key, reads in loaded.items():
            by_target.setdefault(key.target, []).extend(reads.values())
        return by_target


def share_imports(dvt: Invocation, unique_ids: Iterable[str]) -> None:
    """Count, among the nodes about to run, the readers of each input they import."""
    assert dvt.manifest is not None
    nodes = dvt.manifest.nodes
    selected = [nodes[u] for u in unique_ids if u in nodes]
    dvt.shared_imports = SharedImports(
        [dvt.resolve(node) for node in selected], [_code(node) for node in selected]
    )


def _code(node: Any) -> str:
    """What names a node's columns: its SQL, and a generic test's arguments."""
    metadata = getattr(node, "test_metadata", None)
    return f"{node.raw_code} {metadata.kwargs if metadata is not None else ''}"


def drop_shared_imports(dvt: Invocation) -> None:
    """Drop the shared imports whose last reader never ended (skipped, or interrupted)."""
    from dbt.adapters.contracts.relation import RelationType

    registry: SharedImports | None = dvt.shared_imports
    dvt.shared_imports = None
    for target, relations in (registry.remaining() if registry else {}).items():
        adapter: Any = dvt.pool.adapter_for(target)
        try:
            with active_adapter(adapter), adapter.connection_named("dvt_cleanup"):
                adapter.connections.begin()
                for key in relations:
                    relation = adapter.Relation.create(
                        database=key.catalog or None,
                        schema=key.schema,
                        identifier=key.name,
                        type=RelationType.Table,
                    )
                    adapter.drop_relation(relation)
                adapter.connections.commit()
        except Exception as exc:
            why = dvt.redact(str(exc))
            events.debug(f"Could not drop the shared imports on {target!r}: {why}")
