"""The PostgreSQL stage of an engine result: an unconstrained `numeric` column (what PostgreSQL
types sums of numerics as) takes the engine's exact DECIMAL as it is, and an engine result the
column cannot take exactly (a DOUBLE) is refused before anything is written. Real PostgreSQL and
a real DuckDB engine; the node context is the small part of a node a connector sees."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from dvt.config.spec import TargetSpec
from dvt.connections import KeptConnections
from dvt.connectors.postgres import PostgresConnector
from dvt.engines.duckdb import DuckDBEngine
from dvt.exceptions import InexactResultError
from dvt.planning.models import RelationKey
from tests.functional.databases import pg_rows
from tests.servers.postgres import PostgresServer

pytestmark = [pytest.mark.postgres, pytest.mark.duckdb]


class Adapter:
    """What a connector asks of the target's dbt adapter: to open a connection of its own
    (dbt-postgres's own `open`, with the target's credentials)."""

    def __init__(self, credentials: Any) -> None:
        from dbt.adapters.postgres.connections import PostgresConnectionManager

        self.config = SimpleNamespace(credentials=credentials)
        self.connections = PostgresConnectionManager

    def type(self) -> str:
        return "postgres"


class Context:
    """What a connector is handed by the node it stages for: an engine cursor and the engine,
    the target's adapter."""

    def __init__(self, engine: DuckDBEngine, adapter: Adapter) -> None:
        self.engine = engine
        self.cursor = engine.session()
        self.staging = None
        self.rows_read: dict[str, list[int]] = {}
        self.adapter = adapter
        self.connections = KeptConnections()

    def on_interrupt(self, cancel: Callable[[], None]) -> None:
        """Nothing is interrupted here."""

    def adapter_for(self, target: str) -> Adapter:
        return self.adapter

    def borrow_connection(
        self, target: str, open_connection: Callable[[], Any], ready: Callable[[Any], None]
    ) -> AbstractContextManager[Any]:
        return self.connections.borrow(target, open_connection, ready)

    def end_streams(self) -> bool:
        return False  # no input streams here


@pytest.fixture
def target(postgres: PostgresServer, tmp_path: Path) -> Iterator[tuple[PostgresConnector, str]]:
    database = f"stage_{tmp_path.name[-20:]}".lower().replace("-", "_")
    postgres.create_database(database)
    postgres.psql(
        "create schema app; create table app.amounts (amount numeric(20, 2));"
        "insert into app.amounts values (9234567890123456.78), (1.25), (0.01)",
        database,
    )
    options = {
        "host": postgres.host,
        "port": postgres.port,
        "user": postgres.user,
        "password": postgres.password,
        "dbname": database,
    }
    engine = DuckDBEngine(TargetSpec("duckdb", "duckdb", {}))
    engine.start()
    from dbt.adapters.postgres import PostgresCredentials

    credentials = PostgresCredentials(
        database=database,
        schema="public",
        host=postgres.host,
        user=postgres.user,
        port=postgres.port,
        password=postgres.password,
    )
    context: Any = Context(engine, Adapter(credentials))
    try:
        yield PostgresConnector(TargetSpec("pg", "postgres", options), context), database
    finally:
        context.connections.close()
        engine.stop()


def _types(postgres: PostgresServer, database: str, table: str) -> list[tuple[Any, ...]]:
    return pg_rows(
        postgres,
        database,
        "(select attnum, format_type(atttypid, atttypmod) from pg_attribute "
        f"where attrelid = '{table}'::regclass and attnum > 0) as t",
    )


def test_an_exact_decimal_fills_an_unconstrained_numeric(
    target: tuple[PostgresConnector, str], postgres: PostgresServer
) -> None:
    connector, database = target
    typed = "select sum(amount) as total, count(*) as n from app.amounts"
    engine_sql = (
        "select sum(a) as total, count(*) as n from "
        "(values (9234567890123456.78::decimal(20, 2)), (1.25), (0.01)) v(a)"
    )
    rows = connector.stage(engine_sql, RelationKey("", "app", "staged"), typed_sql=typed)
    assert rows == 1
    native = f"({typed}) as native"
    assert pg_rows(postgres, database, "app.staged") == pg_rows(postgres, database, native)
    # 19 significant digits: a DOUBLE would have rounded them.
    assert str(pg_rows(postgres, database, "app.staged")[0][0]) == "9234567890123458.04"
    assert _types(postgres, database, "app.staged") == [(1, "numeric"), (2, "bigint")]


def test_a_float_for_an_unconstrained_numeric_is_refused_and_nothing_is_left(
    target: tuple[PostgresConnector, str], postgres: PostgresServer
) -> None:
    connector, database = target
    typed = "select sum(amount) as total from app.amounts"
    engine_sql = "select sum(a)::double as total from (values (1.25::decimal(20, 2))) v(a)"
    with pytest.raises(InexactResultError, match="'total' is an unconstrained numeric"):
        connector.stage(engine_sql, RelationKey("", "app", "refused"), typed_sql=typed)
    assert (
        pg_rows(postgres, database, "(select 1 from pg_class where relname = 'refused') as t") == []
    )
