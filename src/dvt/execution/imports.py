"""Imports that several federated nodes of one invocation share (DESIGN.md section 6).

An input that two or more selected nodes on one target read from another target is imported
there once, whole (every column, every row), when it is small enough that loading it whole costs
less than each reader's own import: the model SQL keeps its filters, so a wider import never
changes an answer. The import is dropped when the last node that reads it ends, or when the
invocation does (a reader skipped after a failure never ends).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
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
    """The invocation's shared imports: who still reads each input, and where it was loaded."""

    def __init__(self, resolutions: Iterable[NodeResolution]) -> None:
        """`resolutions`: every node the invocation selected."""
        self._readers: Counter[ImportKey] = Counter()
        for resolution in resolutions:
            self._readers.update(remote_inputs(resolution))
        self._loaded: dict[ImportKey, RelationKey] = {}
        self._loading: dict[ImportKey, threading.Lock] = {}
        self._lock = threading.Lock()

    def readers(self, key: ImportKey) -> int:
        """Selected nodes that read the input and have not ended yet."""
        with self._lock:
            return self._readers[key]

    def loaded(self, key: ImportKey) -> bool:
        """Whether a reader has loaded the input already."""
        with self._lock:
            return key in self._loaded

    def claim(self, key: ImportKey, load: Callable[[], RelationKey]) -> RelationKey:
        """The shared import of `key`: loaded by the first reader that asks (the others wait for
        it); a load that fails leaves it to the next reader."""
        with self._lock:
            loading = self._loading.setdefault(key, threading.Lock())
        with loading:
            with self._lock:
                found = self._loaded.get(key)
            if found is None:
                found = load()
                with self._lock:
                    self._loaded[key] = found
            return found

    def release(self, resolution: NodeResolution) -> list[RelationKey]:
        """A node ended: the shared imports no node still to run reads, to drop now."""
        done = []
        with self._lock:
            for key in remote_inputs(resolution):
                self._readers[key] -= 1
                if self._readers[key] <= 0 and key in self._loaded:
                    done.append(self._loaded.pop(key))
        return done

    def remaining(self) -> dict[str, list[RelationKey]]:
        """Every import still loaded, per target (for the end of the invocation); forgotten."""
        with self._lock:
            loaded, self._loaded = self._loaded, {}
        by_target: dict[str, list[RelationKey]] = {}
        for key, relation in loaded.items():
            by_target.setdefault(key.target, []).append(relation)
        return by_target
