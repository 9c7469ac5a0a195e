"""The engine's rows into a PostgreSQL table through `COPY ... FROM STDIN` on a psycopg2
connection DVT owns.

DuckDB writes the rows in PostgreSQL's binary COPY format (`COPY (query) TO ... (FORMAT
postgres_binary)`, the postgres extension's own encoder) into a named pipe, and psycopg2 streams
the pipe to the server. Nothing passes through Python but buffers of bytes. A connection lost in
the middle of the COPY is then a Python exception of the node that was loading, where DuckDB's
postgres scanner writing the rows itself raised an INTERNAL error that invalidated the engine,
then aborted the process rolling back on the dead connection.

The columns are cast to the types the scanner gives the table's PostgreSQL types (as its INSERT
did), so the binary encoding is the one each column's type reads. A table with a column whose
binary form the encoder does not write (money, inet, numeric beyond 38 digits, a user type...)
is written as CSV instead, every value cast to text by DuckDB, as the scanner's text COPY did.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from dvt.quoting import quote_literal

#: Bytes psycopg2 reads from the pipe at a time (one `PQputCopyData` each).
_CHUNK = 1 << 20

#: DuckDB types (`DuckDBPyType.id`) -> the PostgreSQL column type the postgres scanner creates
#: for them (its `ToPostgresType`, then `TypeToString`), but unbounded VARCHAR as `text`, which
#: is what a model pushed down to PostgreSQL writes. Any other type becomes text.
_CREATED = {
    "boolean": "boolean",
    "tinyint": "smallint",
    "smallint": "smallint",
    "integer": "integer",
    "bigint": "bigint",
    "hugeint": "double precision",
    "utinyint": "bigint",
    "usmallint": "bigint",
    "uinteger": "bigint",
    "ubigint": "numeric(20,0)",
    "float": "real",
    "double": "double precision",
    "varchar": "text",
    "blob": "bytea",
    "date": "date",
    "time": "time without time zone",
    "time with time zone": "time with time zone",
    "timestamp": "timestamp without time zone",
    "timestamp_s": "timestamp without time zone",
    "timestamp_ms": "timestamp without time zone",
    "timestamp_ns": "timestamp without time zone",
    "timestamp with time zone": "timestamp with time zone",
    "interval": "interval",
    "uuid": "uuid",
}

#: PostgreSQL types (`pg_type.typname`) -> the DuckDB type whose values the binary encoder
#: writes as that type reads them (the scanner's `TypeToLogicalType`).
_BINARY = {
    "bool": "BOOLEAN",
    "int2": "SMALLINT",
    "int4": "INTEGER",
    "int8": "BIGINT",
    "float4": "FLOAT",
    "float8": "DOUBLE",
    "text": "VARCHAR",
    "varchar": "VARCHAR",
    "bpchar": "VARCHAR",
    "json": "VARCHAR",
    "date": "DATE",
    "time": "TIME",
    "timetz": "TIMETZ",
    "timestamp": "TIMESTAMP",
    "timestamptz": "TIMESTAMPTZ",
    "interval": "INTERVAL",
    "uuid": "UUID",
    "bytea": "BLOB",
}
#: Element types of arrays the encoder writes: it names each element's type by the DuckDB
#: type's own oid, and PostgreSQL refuses an array whose element oid is not the column's.
_BINARY_ELEMENTS = frozenset(_BINARY) - {"text", "bpchar", "json"}
_MAX_DECIMAL_DIGITS = 38

#: A table's columns: name, type name, type modifier, and the element type name of an array.
COLUMNS_SQL = (
    "SELECT a.attname::text, t.typname::text, a.atttypmod, "
    "CASE WHEN t.typcategory = 'A' THEN e.typname::text END "
    "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
    "LEFT JOIN pg_type e ON e.oid = t.typelem "
    "WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum"
)


class UnnamedTypeError(ValueError):
    """An engine type PostgreSQL has only as a named type (ENUM, STRUCT)."""


def created_type(duckdb_type: Any, *, in_list: bool = False) -> str:
    """The PostgreSQL type of a new column for values of `duckdb_type` (a `DuckDBPyType`)."""
    kind = duckdb_type.id
    if str(duckdb_type) == "JSON":
        return "json"
    if kind == "decimal":
        precision, scale = (value for _, value in duckdb_type.children)
        return f"numeric({precision},{scale})"
    if kind == "list":
        (_, child), *_ = duckdb_type.children
        return created_type(child, in_list=True).removesuffix("[]") + "[]"
    if kind in ("enum", "struct"):
        raise UnnamedTypeError(
            f"{duckdb_type} has no unnamed PostgreSQL type: cast it (to text) in the model"
        )
    found = _CREATED.get(kind, "text")
    # In an array the scanner keeps `character varying` (only top-level columns become text).
    return "character varying" if found == "text" and in_list else found


@dataclass(frozen=True)
class TargetColumn:
    """A column of the table being loaded, as PostgreSQL's catalog has it."""

    name: str
    type_name: str
    modifier: int
    element: str | None = None

    def binary_type(self) -> str | None:
        """The DuckDB type to cast the column's values to for the binary encoder; None when
        the column needs text."""
        if self.element is not None:
            if self.element not in _BINARY_ELEMENTS:
                return None
            return f"{_BINARY[self.element]}[]"
        if self.type_name == "numeric":
            return _decimal(self.modifier)
        if self.type_name == "jsonb":
            return "BLOB"  # a version byte before the text (`binary_value`)
        return _BINARY.get(self.type_name)

    def binary_value(self, value: str) -> str:
        """The engine SQL of the column's value for the binary encoder."""
        if self.type_name == "jsonb" and self.element is None:
            return f"('\\x01'::BLOB || encode(CAST({value} AS VARCHAR)))"
        return f"CAST({value} AS {self.binary_type()})"

    def text_value(self, value: str) -> str:
        """The engine SQL of the column's value as the text PostgreSQL's input function reads."""
        if self.element is not None:
            return _array_literal(value, _BINARY.get(self.element, "VARCHAR"))
        if self.type_name == "bytea":
            return f"('\\x' || hex(CAST({value} AS BLOB)))"
        cast = _BINARY.get(self.type_name)
        if cast is None or cast == "VARCHAR":  # numerics keep their digits
            return f"CAST({value} AS VARCHAR)"
        return f"CAST(CAST({value} AS {cast}) AS VARCHAR)"


def _decimal(modifier: int) -> str | None:
    """DECIMAL(p, s) for `numeric(p, s)`; None when DuckDB has no DECIMAL for it."""
    if modifier < 0:
        return None
    precision = ((modifier - 4) >> 16) & 0xFFFF
    scale = (((modifier - 4) & 0x7FF) ^ 1024) - 1024
    if not 0 <= scale <= precision <= _MAX_DECIMAL_DIGITS:
        return None
    return f"DECIMAL({precision},{scale})"


def _array_literal(value: str, element: str) -> str:
    """A list as a PostgreSQL array literal: each element quoted, NULL unquoted."""
    item = (
        "'\"' || replace(replace(CAST(CAST(dvt_e AS "
        f"{element}) AS VARCHAR), '\\', '\\\\'), '\"', '\\\"') || '\"'"
    )
    return (
        f"('{{' || array_to_string(list_transform({value}, lambda dvt_e: "
        f"coalesce({item}, 'NULL')), ',') || '}}')"
    )


@dataclass(frozen=True)
class CopyPlan:
    """The engine's side of one COPY (its query and `COPY ... TO` options) and PostgreSQL's."""

    select: str
    engine_options: str
    postgres_format: str

    def engine_sql(self, path: str) -> str:
        return f"COPY ({self.select}) TO {quote_literal(path)} ({self.engine_options})"

    def postgres_sql(self, table: str) -> str:
        return f"COPY {table} FROM STDIN ({self.postgres_format})"


def plan_copy(engine_sql: str, columns: Sequence[TargetColumn]) -> CopyPlan:
    """The COPY of `engine_sql`'s rows into a table of `columns`: the query's columns by
    position, cast for the table's. Binary when the encoder writes every column, else CSV with
    every value quoted and NULL as nothing (PostgreSQL's CSV then tells NULL from '')."""
    names = [f"dvt_c{index}" for index in range(len(columns))]
    binary = all(column.binary_type() is not None for column in columns)
    values = [
        column.binary_value(name) if binary else column.text_value(name)
        for column, name in zip(columns, names, strict=True)
    ]
    select = f"SELECT {', '.join(values)} FROM ({engine_sql}) AS dvt_rows({', '.join(names)})"
    # Written in place: a temporary file renamed over the pipe would never reach it.
    if binary:
        return CopyPlan(select, "FORMAT postgres_binary, USE_TMP_FILE false", "FORMAT binary")
    csv = "FORMAT csv, HEADER false, FORCE_QUOTE *, NULLSTR '', USE_TMP_FILE false"
    return CopyPlan(select, csv, "FORMAT csv")


def copy_from_engine(
    engine_cursor: Any,
    pg_cursor: Any,
    plan: CopyPlan,
    table: str,
    end_inputs: Callable[[], bool],
) -> int:
    """Run the engine's side of `plan` on `engine_cursor` in a thread of its own, writing into
    a named pipe that `pg_cursor` COPYs into `table`; the rows copied.

    Whichever side fails, the other stops and the first error is raised. When PostgreSQL
    fails, the node's input streams end early (`end_inputs`; True when one had rows left, which
    the query may be reading: it is let finish) or else the engine's query is interrupted, and
    the pipe is drained until the query ends. When the engine fails, the pipe ends early, and
    the engine's error is raised even if PostgreSQL took the rows it had (a stream cut at a row
    boundary looks complete to it)."""
    folder = tempfile.mkdtemp(prefix="dvt-copy-")
    path = os.path.join(folder, "rows")
    failed: list[BaseException] = []
    try:
        os.mkfifo(path, 0o600)
        # Both ends opened here: the engine's open never waits for a reader, and the reader
        # sees the end of the stream only once the engine is done (`keep` closed after it).
        with open(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb", buffering=0) as stream:
            keep = os.open(path, os.O_WRONLY)
            os.set_blocking(stream.fileno(), True)

            def produce() -> None:
                try:
                    engine_cursor.execute(plan.engine_sql(path))
                except BaseException as exc:  # handed to the loading thread
                    failed.append(exc)
                finally:
                    os.close(keep)

            engine = threading.Thread(target=produce, name="dvt-copy", daemon=True)
            try:
                engine.start()
            except BaseException:
                os.close(keep)
                raise
            try:
                with _psycopg2_reports() as lost:
                    pg_cursor.copy_expert(plan.postgres_sql(table), stream, size=_CHUNK)
            except BaseException as exc:
                engine_failed_first = bool(failed)
                if not end_inputs():
                    with contextlib.suppress(Exception):
                        engine_cursor.interrupt()
                while stream.read(_CHUNK):  # until the engine's query has ended
                    pass
                engine.join()
                if engine_failed_first:
                    raise failed[0] from None
                if lost:  # the server's own reason, which psycopg2 printed and dropped
                    raise lost[0] from exc
                raise
        engine.join()
        if failed:
            end_inputs()
            raise failed[0]
        return int(pg_cursor.rowcount)
    finally:
        for remove, name in ((os.unlink, path), (os.rmdir, folder)):
            with contextlib.suppress(OSError):
                remove(name)


_REPORTS = threading.local()
_HOOK_LOCK = threading.Lock()


@contextlib.contextmanager
def _psycopg2_reports() -> Iterator[list[BaseException]]:
    """The errors psycopg2 prints instead of raising while a COPY runs in this thread.

    When the server ends the session in the middle of a COPY, libpq returns two failed
    results (the server's error, then the lost connection's), and psycopg2 reports the second
    while the first is still set: the second's text cannot be decoded then, so psycopg2
    prints a SystemError caused by the server's error through `sys.excepthook`, and raises
    only "invalid socket". The hook below keeps that error for the node instead."""
    with _HOOK_LOCK:
        if not getattr(sys.excepthook, "dvt_copy_reports", False):
            sys.excepthook = _keeping_reports(sys.excepthook)
    kept: list[BaseException] = []
    _REPORTS.kept = kept
    try:
        yield kept
    finally:
        _REPORTS.kept = None


def _keeping_reports(previous: Callable[..., Any]) -> Callable[..., Any]:
    def excepthook(kind: type[BaseException], value: BaseException, traceback: Any) -> Any:
        kept = getattr(_REPORTS, "kept", None)
        if kept is not None and kind is SystemError and value.__cause__ is not None:
            kept.append(value.__cause__)
            return None
        return previous(kind, value, traceback)

    excepthook.dvt_copy_reports = True  # type: ignore[attr-defined]
    return excepthook
