"""Each target's bulk path for seed rows, run inside dbt's seed materialization.

PostgreSQL: DuckDB reads the CSV and writes each value as the text dbt's bound parameter would
become, and the stream goes through `COPY ... FROM STDIN` on dbt's own connection, so it is part of
the materialization's transaction: a failed load rolls back with the truncate or create before it.
DuckDB: one INSERT reads the file and checks each value against the head's types as it casts.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import re
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import agate

from dvt.exceptions import SeedFileError
from dvt.quoting import quote_literal
from dvt.seeds.inference import (
    SeedColumn,
    SeedHead,
    SeedInference,
    column_class_sql,
    column_shape_sql,
    null_like_sql,
)
from dvt.seeds.reader import SeedCsv

if TYPE_CHECKING:
    import duckdb
    from dbt.adapters.base import BaseAdapter

_BATCH_ROWS = 65536
_COPY_BUFFER = 1 << 20


class ChunkReader(io.RawIOBase):
    """A read-only file over a stream of byte chunks, for `cursor.copy_expert`."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return next(self.chunks, b"")


class PostgresSeedLoader:
    """COPY a seed into a PostgreSQL table through dbt's connection.

    `exact` gives the full type check's result, waiting for it if it is still running: the raw
    file goes to the server first, and the check decides afterwards whether that load stands.
    """

    def __init__(
        self,
        adapter: BaseAdapter,
        exact: Callable[[], SeedInference],
        raw_first: bool,
        column_types: Mapping[str, Any] | None = None,
    ) -> None:
        self.adapter = adapter
        self.exact = exact
        self.raw_first = raw_first
        self.column_types = column_types or {}

    def load(
        self, con: duckdb.DuckDBPyConnection, seed: SeedCsv, relation: str, quoted_columns: str
    ) -> tuple[str, int]:
        """Load the rows; return the COPY statement (dbt writes it to the compiled SQL) and the
        rows it loaded."""
        import psycopg2  # here: a DuckDB seed need not load it

        handle = self.adapter.connections.get_thread_connection().handle
        with handle.cursor() as cursor:
            copied = None
            raw = self.raw_first and len(seed.delimiter.encode()) == 1
            if raw:
                # Send the file as it is, in a savepoint: when the check finds values COPY does
                # not read as dbt would bind them (or COPY rejects one), the rows go back.
                raw_sql = (
                    f"copy {relation} ({quoted_columns}) from stdin with (format csv, "
                    f"encoding 'UTF8', header true, delimiter {quote_literal(seed.delimiter)}, "
                    f"force_null ({quoted_columns}))"
                )
                cursor.execute("savepoint dvt_seed")
                # Only the data's errors fall back; a cancel or a lost connection stops the load.
                with contextlib.suppress(psycopg2.DataError), seed.path.open("rb") as data:
                    cursor.copy_expert(raw_sql, data, size=_COPY_BUFFER)
                    copied = cursor.rowcount
            inference = self.exact()
            if raw:
                if inference.copyable and copied == inference.row_count:
                    cursor.execute("release savepoint dvt_seed")
                    return raw_sql, copied
                cursor.execute("rollback to savepoint dvt_seed")
            cursor.execute("show timezone")
            (session_zone,) = cursor.fetchone()
            sql = (
                f"copy {relation} ({quoted_columns}) from stdin with (format csv, encoding 'UTF8')"
            )
            chunks = _csv_chunks(con, inference, _zone(session_zone))
            try:
                cursor.copy_expert(sql, ChunkReader(chunks), size=_COPY_BUFFER)
            except psycopg2.DataError as exc:
                error = self._data_error(seed, exc)
                if error is None:
                    raise
                raise error from exc
            return sql, cursor.rowcount

    def _data_error(self, seed: SeedCsv, exc: Any) -> SeedFileError | None:
        """A value COPY refused, as the seed's file, line, column and `column_types` override.

        The values DVT infers always load, so the value is one an override cannot hold.
        COPY's own line number counts the lines of the stream DVT sent, which has no header
        (and PostgreSQL skips the line breaks inside a first quoted value): the line is found
        in the file by the column and value COPY names instead."""
        found = _COPY_CONTEXT.search(exc.diag.context or "")
        column = _seed_column(seed, found.group("column")) if found else None
        if found is None or column is None:
            return None
        value, reason = found.group("value"), exc.diag.message_primary or str(exc)
        # PostgreSQL shows at most 100 bytes of a value, then "...".
        truncated = value.endswith("...") and len(value.encode()) > _COPY_VALUE_SHOWN
        if truncated:
            value = value[:-3]
        override = self.column_types.get(column)
        if override is None:
            return SeedFileError(
                seed.display_path,
                seed.line_of(seed.column_names.index(column), value, prefix=truncated),
                f"column {column!r} has the value {value!r}, which PostgreSQL refused ({reason})",
            )
        return seed.override_error(
            column, value, override, f"PostgreSQL: {reason}", truncated=truncated
        )


def _csv_chunks(
    con: duckdb.DuckDBPyConnection, inference: SeedInference, zone: datetime.tzinfo
) -> Iterator[bytes]:
    """The rows as CSV, each value the text dbt's bound parameter would be."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    seed = inference.csv
    values, joins = [], []
    for i, column in enumerate(inference.columns):
        values.append(f"{_value_sql(inference, column, i)} AS v{i}")
        if column.others:
            mapping = pa.table(
                {
                    "v": list(column.others),
                    "out": [_text(column, cast, zone) for cast in column.others.values()],
                }
            )
            con.register(f"m{i}", mapping)
            joins.append(f"LEFT JOIN m{i} ON m{i}.v = t.{seed.column(i)}")
    query = f"SELECT {', '.join(values)} FROM {seed.relation_sql} t {' '.join(joins)}"
    reader = seed.query(con, query).to_arrow_reader(_BATCH_ROWS)
    options = pa_csv.WriteOptions(include_header=False, quoting_style="needed")
    for batch in reader:
        sink = io.BytesIO()
        pa_csv.write_csv(batch, sink, options)
        yield sink.getvalue()


def _value_sql(inference: SeedInference, column: SeedColumn, index: int) -> str:
    """The text PostgreSQL parses into the column, as dbt's bound value would arrive."""
    value = f"t.{inference.csv.column(index)}"
    null = f"WHEN {null_like_sql(value)} THEN NULL"
    if column.is_text:
        return f"CASE {null} ELSE {value} END"
    if isinstance(column.agate_type, agate.Number) and column.max_fraction == 0:
        # dbt's "integer": PostgreSQL's integer input does not take "1.0"; dbt's numeric
        # literal does, by assignment, so whole values are written without a fraction.
        plain = (
            f"CASE WHEN contains({value}, '.') "
            f"THEN CAST(CAST({value} AS DOUBLE) AS HUGEINT)::VARCHAR ELSE {value} END"
        )
    elif isinstance(column.agate_type, agate.Boolean):
        plain = f"lower({value})"
    else:
        plain = value
    if not column.others:
        return f"CASE {null} ELSE {plain} END"
    in_class = column_class_sql(column, value)
    return f"CASE {null} WHEN {in_class} THEN {plain} ELSE m{index}.out END"


#: The context of a COPY error about one field: `COPY people, line 2, column id: "x2"`.
_COPY_CONTEXT = re.compile(r'^COPY .*?, line \d+, column (?P<column>.*?): "(?P<value>.*)"\Z', re.S)
_COPY_VALUE_SHOWN = 100


def _seed_column(seed: SeedCsv, name: str) -> str | None:
    """The seed's column that PostgreSQL names `name` (it folds unquoted names to lower case)."""
    if name in seed.column_names:
        return name
    return next((c for c in seed.column_names if c.lower() == name.lower()), None)


class SeedRecheckError(Exception):
    """A checked load met a value outside its head's types (or DuckDB refused one)."""


_RECHECK = "dvt: value outside the type of the seed's first rows"


def insert_checked(
    adapter: Any, head: SeedHead, types: list[str], relation: str
) -> tuple[str, int]:
    """DuckDB: insert the file into the table dbt created with the head's types, checking in the
    same statement that each value is one dbt's inference puts in that type and that DuckDB's
    cast reads as dbt-duckdb's COPY would. Any other value stops it (`SeedRecheckError`).
    Returns the statement and the rows it inserted."""
    seed = head.csv
    values = []
    for i, (column, sql_type) in enumerate(zip(head.columns, types, strict=True)):
        value = seed.column(i)
        if column.is_text:
            values.append(value)
            continue
        # DuckDB rounds '1.5' to 2 in an integer column: its values must be whole.
        whole = isinstance(column.agate_type, agate.Number) and sql_type == "integer"
        shape = column_shape_sql(column, value, whole=whole)
        # A value of the shape whose cast succeeds is in the class; a failed cast (a date
        # that is not real, ...) stops the statement like the error does.
        values.append(
            f"CASE WHEN {shape} THEN CAST({value} AS {sql_type}) WHEN {value} IS NULL THEN NULL "
            f"ELSE error({quote_literal(_RECHECK)}) END"
        )
    sql = f"insert into {relation} select {', '.join(values)} from {seed.relation_sql}"
    try:
        _, cursor = adapter.add_query(sql, abridge_sql_log=True)
    except Exception as exc:
        if _interrupted(exc):  # a cancel stops the node; it is not a value to recheck
            raise
        raise SeedRecheckError(str(exc)) from exc
    (inserted,) = cursor.fetchone()
    return sql, int(inserted)


def _interrupted(exc: BaseException | None) -> bool:
    """Whether DuckDB's interrupt is behind `exc` (dbt's adapter wraps DuckDB's errors)."""
    import duckdb

    while exc is not None:
        if isinstance(exc, duckdb.InterruptException):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _text(column: SeedColumn, value: Any, zone: datetime.tzinfo) -> str | None:
    """An agate value as the text PostgreSQL reads from dbt's bound parameter."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:  # a timestamptz parameter lands in the session's zone
            value = value.astimezone(zone).replace(tzinfo=None)
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if column.max_fraction == 0 and value.is_finite():
        return str(int(value))
    return str(value)


def _zone(name: str) -> datetime.tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return datetime.UTC
