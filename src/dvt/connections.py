"""Connections of DVT's own (a PostgreSQL load's), kept open between the nodes of one
invocation: opening one costs about as much as loading a small import."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any


class KeptConnections:
    """Idle connections by key (a target's name), lent to one load at a time."""

    def __init__(self) -> None:
        self._idle: dict[str, list[Any]] = {}
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def borrow(
        self, key: str, open_connection: Callable[[], Any], ready: Callable[[Any], None]
    ) -> Iterator[Any]:
        """A connection for `key`, `ready(connection)` run on it first: a kept one, or a new one
        when none is kept or the kept one fails `ready` (its server went away meanwhile). It is
        kept again when the block ends normally, and closed when it raises."""
        with self._lock:
            idle = self._idle.get(key)
            connection = idle.pop() if idle else None
        if connection is not None:
            try:
                ready(connection)
            except Exception:
                _close(connection)
                connection = None
        if connection is None:
            connection = open_connection()
            try:
                ready(connection)
            except BaseException:
                _close(connection)
                raise
        try:
            yield connection
        except BaseException:
            _close(connection)
            raise
        with self._lock:
            self._idle.setdefault(key, []).append(connection)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                _close(connection)


def _close(connection: Any) -> None:
    with contextlib.suppress(Exception):
        connection.close()
