"""SQLGlot dialects, each loaded whole before threads write SQL in it.

SQLGlot registers a dialect's class before it has finished building it (its quote characters are
set last), and loads dialects lazily without a lock: a node thread that asks for "mysql" while
another thread is loading it can get the half-built class and quote `"orders"` for MySQL.
Connectors and engines name their dialect through `load`, once, under one lock.
"""

from __future__ import annotations

import threading

_LOCK = threading.Lock()


def load(name: str) -> str:
    """Load the SQLGlot dialect `name` completely (once; later calls cost a dict lookup)."""
    from sqlglot.dialects.dialect import Dialect

    with _LOCK:
        Dialect.get_or_raise(name)
    return name
