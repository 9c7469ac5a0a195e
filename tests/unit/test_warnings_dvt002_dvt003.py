"""DVT002 and DVT003: what the engines cannot keep (types) or may compute differently (functions)."""

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


def test_spark_semantic_differences_name_each_function_once() -> None:
    from dvt.engines.spark import semantic_differences

    notes = semantic_differences(
        "SELECT a RLIKE 'x+', REGEXP_REPLACE(b, 'a', 'b'), DATE_FORMAT(d, 'yyyy-MM'), "
        "a RLIKE 'x+', UPPER(b) FROM t"
    )
    assert len(notes) == 3
    assert any("RLIKE" in n and "Java" in n for n in notes)
    assert any("DATE_FORMAT" in n and "DateTimeFormatter" in n for n in notes)
    assert semantic_differences("SELECT UPPER(b), a / 2 FROM t") == []
