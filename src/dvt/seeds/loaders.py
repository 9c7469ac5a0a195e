"""Each target's bulk path for seed rows, run inside dbt's seed materialization.

PostgreSQL: DuckDB reads the CSV and writes each value as the text dbt's bound parameter would
become, and the stream goes through `COPY ... FROM STDIN` on dbt's own connection, so it is part of
the materialization's transaction: a failed load rolls back with the truncate or create before it.
DuckDB targets keep dbt-duckdb's own load (`COPY ... FROM` the file) and only skip agate.
"""

from __future__ import annotations

import contextlib
import datetime
import io
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import agate
import psycopg2

from dvt.seeds.inference import SeedColumn, SeedInference, column_class_sql, null_like_sql
from dvt.seeds.reader import sql_literal

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
    """COPY a seed into a PostgreSQL table through dbt's connection."""

    def __init__(self, adapter: BaseAdapter, inference: SeedInference) -> None:
        self.adapter = adapter
        self.inference = inference

    def load(self, con: duckdb.DuckDBPyConnection, relation: str, quoted_columns: str) -> str:
        """Load the rows; return the COPY statement (dbt writes it to the compiled SQL)."""
        seed = self.inference.csv
        handle = self.adapter.connections.get_thread_connection().handle
        with handle.cursor() as cursor:
            if self.inference.copyable and len(seed.delimiter.encode()) == 1:
                # The file is already what COPY reads: send it as it is, in a savepoint so that
                # anything unexpected (a blank line COPY counts differently) falls back below.
                sql = (
                    f"copy {relation} ({quoted_columns}) from stdin with (format csv, "
                    f"header true, delimiter {sql_literal(seed.delimiter)}, "
                    f"force_null ({quoted_columns}))"
                )
                cursor.execute("savepoint dvt_seed")
                # Only the data's errors fall back; a cancel or a lost connection stops the load.
                with contextlib.suppress(psycopg2.DataError), seed.path.open("rb") as data:
                    cursor.copy_expert(sql, data, size=_COPY_BUFFER)
                    if cursor.rowcount == self.inference.row_count:
                        cursor.execute("release savepoint dvt_seed")
                        return sql
                cursor.execute("rollback to savepoint dvt_seed")
            cursor.execute("show timezone")
            (session_zone,) = cursor.fetchone()
            sql = f"copy {relation} ({quoted_columns}) from stdin with (format csv)"
            chunks = self._csv_chunks(con, _zone(session_zone))
            cursor.copy_expert(sql, ChunkReader(chunks), size=_COPY_BUFFER)
        return sql

    def _csv_chunks(self, con: duckdb.DuckDBPyConnection, zone: datetime.tzinfo) -> Iterator[bytes]:
        """The rows as CSV, each value the text dbt's bound parameter would be."""
        import pyarrow as pa
        import pyarrow.csv as pa_csv

        seed = self.inference.csv
        values, joins = [], []
        for i, column in enumerate(self.inference.columns):
            values.append(f"{self._value_sql(column, i)} AS v{i}")
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

    def _value_sql(self, column: SeedColumn, index: int) -> str:
        """The text PostgreSQL parses into the column, as dbt's bound value would arrive."""
        value = f"t.{self.inference.csv.column(index)}"
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
