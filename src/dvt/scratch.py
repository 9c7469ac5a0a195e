"""Scratch relations (imports, stages, probes) of invocations that no longer run.

Every scratch relation is named `<alias>__dvt_<role>_<tag>`, the tag being the first 8 hex
digits of its invocation's id (`scratch_name`). Before an invocation makes its first scratch
relation on a target, it claims the target (`Scratch.claim`): the target's connector proves,
for as long as the invocation lives, that its tag is alive (PostgreSQL: a session-level advisory
lock keyed on the tag, on a connection of its own), then drops the scratch relations whose
invocation it can tell is dead (PostgreSQL: their tag's lock can be taken; a DuckDB file: any
other tag, as only one process opens the file for writing). One catalog query per target the
invocation writes to; one log line per relation dropped; a sweep that fails never fails a node.
"""

from __future__ import annotations

import hashlib
import re
import threading
from typing import Any, Protocol

from dbt_common.invocation import get_invocation_id

from dvt import events

#: A scratch relation's name: its role and its invocation's tag, at the end.
SCRATCH_NAME = re.compile(r"__dvt_(?:in\d+|ty\d+|sh[0-9a-f]{4}|probe|stage)_([0-9a-f]{8})$")

#: The longest identifier every writable target accepts (PostgreSQL's NAMEDATALEN - 1).
_MAX_NAME_BYTES = 63


def scratch_name(alias: str, role: str, invocation_id: str | None = None) -> str:
    """`<alias>__dvt_<role>_<invocation>`, shortened (with a digest of the alias) to fit
    PostgreSQL's 63 bytes: unique per invocation, so two runs never share one."""
    tag = scratch_tag(invocation_id)
    suffix = f"__dvt_{role}_{tag}"
    name = f"{alias}{suffix}"
    if len(name.encode()) <= _MAX_NAME_BYTES:
        return name
    digest = hashlib.sha1(alias.encode()).hexdigest()[:8]
    room = _MAX_NAME_BYTES - len(suffix) - len(digest) - 1
    head = alias.encode()[:room].decode(errors="ignore")
    return f"{head}_{digest}{suffix}"


class ScratchTarget(Protocol):
    """What a claim needs of a target's connector (`Connector.hold_scratch`, `sweep_scratch`)."""

    spec: Any

    def hold_scratch(self, tag: str) -> Any: ...

    def sweep_scratch(self, tag: str, proof: Any) -> list[tuple[str, str]]: ...


def scratch_tag(invocation_id: str | None = None) -> str:
    """The tag of an invocation's scratch relations: its id's first 8 hex digits."""
    return (invocation_id or get_invocation_id()).replace("-", "")[:8]


def tag_of(name: str) -> str | None:
    """The invocation tag of a scratch relation's name, or None for any other name."""
    found = SCRATCH_NAME.search(name)
    return found.group(1) if found else None


class Scratch:
    """One invocation's claims on the targets it writes scratch relations to."""

    def __init__(self, redact: Any) -> None:
        self._redact = redact
        self._lock = threading.Lock()
        #: Target name -> what proves the invocation alive there (closed at the end).
        self._held: dict[str, Any] = {}

    def claim(self, connector: ScratchTarget) -> None:
        """Before the first scratch relation on the connector's target: prove this invocation
        alive there, then drop what dead invocations left. Once per target; later calls return
        at once, and a node in another thread waits until the proof is held."""
        target = connector.spec.name
        tag = scratch_tag()
        with self._lock:
            if target in self._held:
                return
            try:
                self._held[target] = connector.hold_scratch(tag)
            except Exception as exc:
                self._held[target] = None
                self._failed(target, "prove this invocation alive", exc)
                return
        try:
            dropped = connector.sweep_scratch(tag, self._held[target])
        except Exception as exc:
            self._failed(target, "drop what earlier invocations left", exc)
            return
        for schema, name in dropped:
            events.info(
                f"Dropped {schema}.{name} on target {target!r}: a stage or import left by "
                f"invocation {tag_of(name)}, which no longer runs"
            )

    def _failed(self, target: str, what: str, exc: Exception) -> None:
        message = self._redact(f"{type(exc).__name__}: {exc}")
        events.debug(f"Could not {what} on target {target!r}: {message}")

    def close(self) -> None:
        """Release every proof of life (the invocation ends)."""
        with self._lock:
            held, self._held = list(self._held.values()), {}
        for proof in held:
            if proof is not None:
                try:
                    proof.close()
                except Exception as exc:
                    events.debug(f"Could not release a scratch claim: {type(exc).__name__}")
