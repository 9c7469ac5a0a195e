"""The engine -> PostgreSQL write path (`dvt.connectors.postgres_copy`) against a real server:
the tables it creates are typed as the postgres scanner types them, every value arrives as
PostgreSQL holds it (binary COPY, and CSV for the types the binary encoder does not write),
and a failure on either side is a Python exception that leaves the engine usable."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg2
import pytest

from dvt.connectors import postgres_copy
from dvt.embedded import connect, extension_path
from tests.servers.postgres import PostgresServer

pytestmark = [pytest.mark.postgres, pytest.mark.duckdb]

DATABASE = "copy_path"


@pytest.fixture(scope="module")
def server(postgres: PostgresServer) -> PostgresServer:
    postgres.create_database(DATABASE)
    return postgres


@pytest.fixture
def engine(server: PostgresServer) -> Iterator[Any]:
    """An engine with the server attached as `pg`."""
    db = connect()
    db.execute(f"LOAD '{extension_path('postgres_scanner')}'")
    db.execute(f"ATTACH '{server.dsn_for(DATABASE)}' AS pg (TYPE postgres)")
    try:
        yield db
    finally:
        db.close()


@pytest.fixture
def connection(server: PostgresServer) -> Iterator[Any]:
    conn = psycopg2.connect(server.dsn_for(DATABASE))
    conn.autocommit = True
    try:
        yield conn
    finally:
        conn.close()


def _copy(engine: Any, connection: Any, engine_sql: str, table: str) -> int:
    """Load `engine_sql`'s rows into the existing `table` as a stage does; the rows copied."""
    with connection.cursor() as cursor:
        cursor.execute(postgres_copy.COLUMNS_SQL, (table,))
        columns = [postgres_copy.TargetColumn(*row) for row in cursor.fetchall()]
        plan = postgres_copy.plan_copy(engine_sql, columns)
        return postgres_copy.copy_from_engine(engine.cursor(), cursor, plan, table, lambda: False)


def _differences(connection: Any, left: str, right: str) -> list[tuple[Any, ...]]:
    """Rows of either table the other does not have, compared by PostgreSQL (its text)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"(select 'only in {left}', t::text from {left} t except all "
            f"select 'only in {left}', t::text from {right} t) union all "
            f"(select 'only in {right}', t::text from {right} t except all "
            f"select 'only in {right}', t::text from {left} t)"
        )
        return list(cursor.fetchall())


ENGINE_TYPES = [
    "BOOLEAN",
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
    "FLOAT",
    "DOUBLE",
    "DECIMAL(4,1)",
    "DECIMAL(18,3)",
    "DECIMAL(38,10)",
    "VARCHAR",
    "BLOB",
    "DATE",
    "TIME",
    "TIMETZ",
    "TIMESTAMP",
    "TIMESTAMPTZ",
    "TIMESTAMP_S",
    "TIMESTAMP_MS",
    "TIMESTAMP_NS",
    "INTERVAL",
    "UUID",
    "JSON",
    "BIT",
    "MAP(INTEGER, INTEGER)",
    "INTEGER[]",
    "VARCHAR[]",
    "INTEGER[][]",
    "DECIMAL(38,10)[]",
    "INTEGER[3]",
]


def test_created_types_are_the_scanners(engine: Any, server: PostgresServer) -> None:
    """An import is created with the types the scanner's CREATE TABLE gave each engine type
    (but `text` for an unbounded VARCHAR): a DuckDB or extension upgrade that changes them
    fails here."""
    for index, name in enumerate(ENGINE_TYPES):
        engine.execute(f"CREATE TABLE pg.public.scanned_{index} AS SELECT NULL::{name} AS c")
        scanned = server.psql(
            "select format_type(atttypid, atttypmod) from pg_attribute "
            f"where attrelid = 'public.scanned_{index}'::regclass and attnum = 1",
            DATABASE,
        )
        duckdb_type = engine.sql(f"SELECT NULL::{name} AS c").types[0]
        created = postgres_copy.created_type(duckdb_type)
        expected = "text" if scanned == "character varying" else scanned
        assert created.replace(",", ", ") == expected.replace(",", ", "), name


BINARY_COLUMNS = (
    "i2 smallint, i4 integer, i8 bigint, n numeric(12,4), n38 numeric(38,10), r real, "
    "f double precision, ok boolean, t text, v varchar(8), c char(3), d date, tm time, "
    "tz timetz, ts timestamp, tstz timestamptz, iv interval, u uuid, b bytea, j json, "
    "jb jsonb, ia integer[], va varchar[], fa double precision[]"
)
BINARY_ROWS = """
(1, 2147483647, 9007199254740993, 12345678.1234, 1234567890123456789012345678.0123456789,
 3.4e38, 0.1, true, 'plain', 'short', 'ab', '2024-02-29', '23:59:59.999999', '12:00:00+05:30',
 '2024-01-01 12:34:56.789012', '2024-06-30 23:59:59.999999+02', '1 year 2 mons 3 days 04:05:06',
 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\\x00ff10', '{"a": [1, 2]}', '{"b": {"c": null}}',
 '{1,NULL,3}', '{"x y","",NULL}', '{0.1,-0}'),
(-32768, -2147483648, -9223372036854775808, -0.0001, -0.0000000001, -1e-30, -1e300, false,
 'Chloé ✓ 漢字 "quoted" \\ back\tslash
newline', '', ' ', '0001-01-01', '00:00:00', '00:00:00-12', '1970-01-01 00:00:00',
 '1999-12-31 23:00:00+00', '-1 days -00:00:01', '00000000-0000-0000-0000-000000000000', '',
 '[]', '[]', '{}', '{}', '{Infinity,-Infinity,NaN}'),
(null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
 null, null, null, null, null, null, null, null),
(0, 0, 0, 0, 0, 'NaN', 'Infinity', true, '', 'x', 'abc', '9999-12-31', '12:00', '12:00+00',
 'infinity', '-infinity', '0', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '\\x', 'null', '"s"',
 '{}', '{NULL}', NULL)
"""


def test_binary_copy_keeps_every_value(engine: Any, connection: Any) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"create table binary_src ({BINARY_COLUMNS}); insert into binary_src values "
            f"{BINARY_ROWS}; create table binary_dst (like binary_src)"
        )
        cursor.execute(postgres_copy.COLUMNS_SQL, ("binary_dst",))
        columns = [postgres_copy.TargetColumn(*row) for row in cursor.fetchall()]
    assert all(column.binary_type() is not None for column in columns)
    rows = _copy(engine, connection, "SELECT * FROM pg.public.binary_src", "binary_dst")
    assert rows == 4
    assert _differences(connection, "binary_src", "binary_dst") == []


def test_types_without_a_binary_encoding_go_as_text(engine: Any, connection: Any) -> None:
    """money, inet, an enum, text[] (the encoder names its elements varchar), numeric
    beyond DuckDB's 38 digits: the table goes as CSV, NULL told from an empty string."""
    with connection.cursor() as cursor:
        cursor.execute(
            "create type mood as enum ('sad', 'ok'); "
            "create table text_src (m money, addr inet, feel mood, tags text[], "
            "big numeric(50, 2), t text, i integer, d date, b bytea, ts timestamptz, "
            "ia integer[]); insert into text_src values "
            '(\'$1,234.56\', \'10.0.0.1/8\', \'ok\', \'{"a,b","q\\"uote","back\\\\slash",NULL,""}\', '
            "12345.67, 'x,\"y\"\nz', 1, '2024-01-01', '\\x00ff', '2024-01-01 00:00:00+00', "
            "'{1,NULL}'), "
            "(null, null, null, null, null, null, null, null, null, null, null), "
            "('-$0.01', '::1', 'sad', '{}', -0.5, '', -1, '0001-01-01', '\\x', 'infinity', '{}');"
            "create table text_dst (like text_src)"
        )
    rows = _copy(engine, connection, "SELECT * FROM pg.public.text_src", "text_dst")
    assert rows == 3
    assert _differences(connection, "text_src", "text_dst") == []


def test_the_engine_failing_fails_the_copy(engine: Any, connection: Any) -> None:
    """A value the engine cannot cast raises the engine's error, though PostgreSQL may have
    taken the rows before it; the engine runs the next query."""
    import duckdb

    with connection.cursor() as cursor:
        cursor.execute("create table bad_cast (i integer)")
    engine_sql = (
        "SELECT CASE WHEN range < 300000 THEN range::VARCHAR ELSE 'x' END FROM range(400000)"
    )
    with pytest.raises(duckdb.ConversionException):
        _copy(engine, connection, engine_sql, "bad_cast")
    assert engine.execute("SELECT 42").fetchall() == [(42,)]


def test_the_server_failing_fails_the_copy(engine: Any, connection: Any) -> None:
    """A value the server refuses, halfway through a stream, raises the server's error; the
    engine's query is stopped, and the engine runs the next query."""
    with connection.cursor() as cursor:
        cursor.execute("create table refused (i integer check (i < 500000))")
    with pytest.raises(psycopg2.errors.CheckViolation):
        _copy(engine, connection, "SELECT range FROM range(3000000)", "refused")
    assert engine.execute("SELECT 42").fetchall() == [(42,)]
