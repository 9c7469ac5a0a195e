"""DVT002: which source types the engine cannot keep (the connectors' `lossy_types`)."""

from __future__ import annotations

import pytest

from dvt.connectors.base import AS_DOUBLE, AS_TEXT
from dvt.connectors.mysql import MySQLConnector
from dvt.connectors.postgres import PostgresConnector
from dvt.connectors.sqlite import SQLiteConnector


@pytest.mark.parametrize(
    ("connector", "source_type", "loss"),
    [
        (PostgresConnector, "numeric", AS_DOUBLE),
        (PostgresConnector, "numeric(50,10)", AS_DOUBLE),
        (PostgresConnector, "numeric(39)", AS_DOUBLE),
        (PostgresConnector, "numeric(38,2)", None),
        (PostgresConnector, "numeric(12,4)", None),
        (PostgresConnector, "jsonb", AS_TEXT),
        (PostgresConnector, "bit varying(8)", AS_TEXT),
        (PostgresConnector, "text", None),
        (PostgresConnector, "timestamp with time zone", None),
        (MySQLConnector, "decimal(65,30)", AS_DOUBLE),
        (MySQLConnector, "decimal(10,2) unsigned", None),
        (MySQLConnector, "bigint unsigned", None),
        (SQLiteConnector, "numeric", None),
    ],
)
def test_type_loss(connector: type, source_type: str, loss: str | None) -> None:
    assert connector.type_loss(source_type) == loss
