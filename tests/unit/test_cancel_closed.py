"""Ctrl-C as a node closes its connection: dbt's cancel loop must not end in a traceback."""

from __future__ import annotations

import threading
import types
from multiprocessing import get_context

import duckdb
import pytest
from dbt.adapters.duckdb.connections import DuckDBConnectionManager
from dbt.adapters.duckdb.credentials import DuckDBCredentials

from dvt.dbt_seams.pool import cancels_skip_closed


def _closing_node(manager: DuckDBConnectionManager) -> None:
    """A node's thread halfway through dbt's `close()`: its handle is closed, and the
    connection is still marked open (dbt sets CLOSED after closing the handle, outside the
    manager's lock)."""

    def node() -> None:
        manager.set_connection_name("model.shop.orders")
        connection = manager.get_thread_connection()
        connection.handle.cursor().close()

    thread = threading.Thread(target=node)
    thread.start()
    thread.join()


def test_a_cancel_of_a_connection_its_node_just_closed_is_skipped() -> None:
    credentials = DuckDBCredentials(database="memory", schema="main", path=":memory:")
    adapter = types.SimpleNamespace(
        connections=DuckDBConnectionManager(
            types.SimpleNamespace(credentials=credentials), get_context("spawn")
        )
    )
    manager = adapter.connections
    _closing_node(manager)
    manager.set_connection_name("master")
    # The race, as dbt-duckdb meets it without DVT's seam.
    with pytest.raises(duckdb.ConnectionException, match="already closed"):
        manager.cancel_open()
    with cancels_skip_closed(adapter):  # type: ignore[arg-type]
        assert manager.cancel_open() == ["model.shop.orders"]
    assert "cancel" not in vars(manager)  # dbt's own method again after the block
    DuckDBConnectionManager.close_all_connections()
