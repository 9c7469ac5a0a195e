"""DuckDB hashes its own rows for `dvt diff` (and those of databases it reads through a
scanner: SQLite, MySQL)."""

from __future__ import annotations

import re

from dvt.diff.hashing.base import Hasher, Kind
from dvt.quoting import quote_literal

_KINDS: tuple[tuple[str, Kind], ...] = (
    (r"u?(tinyint|smallint|integer|bigint|hugeint)", "int"),
    (r"decimal\(\d+,\d+\)", "decimal"),
    (r"float|double|real", "float"),
    (r"boolean", "bool"),
    (r"date", "date"),
    (r"timestamp(_s|_ms|_ns)?", "timestamp"),
    (r"timestamp with time zone", "timestamptz"),
    (r"time", "time"),
)


class DuckDBHasher(Hasher):
    dialect = "duckdb"

    def kind_of(self, type_name: str) -> Kind:
        lowered = type_name.lower()
        return next((kind for p, kind in _KINDS if re.fullmatch(p, lowered)), "text")

    def relation(self, database: str | None, schema: str, name: str) -> str:
        named = [database] if database else []
        return ".".join(self.quote(part) for part in [*named, schema, name])

    def columns_sql(self, database: str | None, schema: str, name: str) -> str:
        catalog = f"table_catalog = {quote_literal(database)} AND " if database else ""
        return (
            "SELECT column_name, data_type FROM information_schema.columns WHERE "
            f"{catalog}table_schema = {quote_literal(schema)} "
            f"AND table_name = {quote_literal(name)} ORDER BY ordinal_position"
        )

    def text(self, sql: str) -> str:
        return f"CAST({sql} AS VARCHAR)"

    def decimal_text(self, sql: str) -> str:
        text = self.text(sql)
        return (
            f"CASE WHEN contains({text}, '.') THEN rtrim(rtrim({text}, '0'), '.') ELSE {text} END"
        )

    def float_text(self, sql: str) -> str:
        return (
            f"CASE WHEN isnan({sql}) THEN 'nan' WHEN isinf({sql}) AND ({sql}) > 0 THEN 'inf' "
            f"WHEN isinf({sql}) THEN '-inf' "
            f"WHEN ({sql}) = floor({sql}) AND abs({sql}) < 1e16 THEN CAST(CAST({sql} AS BIGINT) "
            f"AS VARCHAR) ELSE CAST({sql} AS VARCHAR) END"
        )

    def double(self, sql: str) -> str:
        return f"CAST({sql} AS DOUBLE)"

    def timestamp_text(self, sql: str) -> str:
        # Nanosecond and second timestamps print their own precision: microseconds first.
        return self.text(f"CAST({sql} AS TIMESTAMP)")

    def in_utc(self, sql: str) -> str:
        return f"timezone('UTC', {sql})"

    def md5(self, sql: str) -> str:
        return f"md5({sql})"

    def hex_int(self, sql: str, start: int, length: int) -> str:
        integer = "INTEGER" if length <= 7 else "BIGINT"
        return f"CAST('0x' || substr({sql}, {start}, {length}) AS {integer})"


HASHER = DuckDBHasher
