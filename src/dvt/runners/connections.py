"""The node's dbt connection, as DVT's runners need it beyond what dbt does."""

from __future__ import annotations

import contextlib
from typing import Any


def roll_back(adapter: Any) -> None:
    """Roll back the node's connection after a failed materialization. dbt does so only when it
    releases the connection, after the runner returns, and its own flag misses a transaction the
    driver opened implicitly (a contract's column check): until then the transaction's locks
    stay, and a retry would run inside it."""
    connection = adapter.connections.get_if_exists()
    if connection is None or connection.state != "open":
        return
    with contextlib.suppress(Exception):  # the target may be gone: it rolled back itself
        connection.handle.rollback()
    connection.transaction_open = False
