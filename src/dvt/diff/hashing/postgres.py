"""PostgreSQL hashes its own rows for `dvt diff` (in parallel workers where it plans them)."""

from __future__ import annotations

import re

from dvt.diff.hashing.base import Hasher, Kind
from dvt.quoting import quote_literal

_KINDS: tuple[tuple[str, Kind], ...] = (
    (r"smallint|integer|bigint", "int"),
    (r"numeric(\(\d+(,\d+)?\))?", "decimal"),
    (r"real|double precision", "float"),
    (r"boolean", "bool"),
    (r"date", "date"),
    (r"timestamp(\(\d\))? without time zone", "timestamp"),
    (r"timestamp(\(\d\))? with time zone", "timestamptz"),
    (r"time(\(\d\))? without time zone", "time"),
)


class PostgresHasher(Hasher):
    dialect = "postgres"
    #: ISO dates and timestamps (`2024-01-01 10:00:00.5`, DuckDB's text too, and far cheaper
    #: than to_char) and the shortest exact float digits, whatever the role's defaults. And
    #: PostgreSQL plans a hash aggregate for as many groups as rows (it cannot know a bucket
    #: holds many): with the default work_mem it plans to spill and runs it on one core; the
    #: groups are a few thousand, and the memory used is theirs.
    session_sql = (
        "SET DateStyle = 'ISO, MDY'",
        "SET extra_float_digits = 1",
        "SET work_mem = '256MB'",
    )

    def kind_of(self, type_name: str) -> Kind:
        lowered = type_name.lower()
        return next((kind for p, kind in _KINDS if re.fullmatch(p, lowered)), "text")

    def relation(self, database: str | None, schema: str, name: str) -> str:
        # A connection reaches one database: relations are schema.name.
        return f"{self.quote(schema)}.{self.quote(name)}"

    def columns_sql(self, database: str | None, schema: str, name: str) -> str:
        return (
            "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
            "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            f"WHERE n.nspname = {quote_literal(schema)} AND c.relname = {quote_literal(name)} "
            "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum"
        )

    def text(self, sql: str) -> str:
        return f"({sql})::text"

    def decimal_text(self, sql: str) -> str:
        return f"trim_scale({sql})::text"

    def float_text(self, sql: str) -> str:
        # PostgreSQL prints the shortest exact digits, but `3` where DuckDB prints `3.0`, and
        # `1e+15` where DuckDB prints `1000000000000000.0`: integers below 1e16 as bigints.
        return (
            f"CASE WHEN ({sql}) = 'NaN'::float8 THEN 'nan' "
            f"WHEN ({sql}) = 'Infinity'::float8 THEN 'inf' "
            f"WHEN ({sql}) = '-Infinity'::float8 THEN '-inf' "
            f"WHEN ({sql}) = floor({sql}) AND abs({sql}) < 1e16 THEN (({sql})::bigint)::text "
            f"ELSE ({sql})::text END"
        )

    def double(self, sql: str) -> str:
        return f"({sql})::float8"

    def timestamp_text(self, sql: str) -> str:
        return self.text(sql)

    def in_utc(self, sql: str) -> str:
        return f"(({sql}) AT TIME ZONE 'UTC')"

    def md5(self, sql: str) -> str:
        return f"md5({sql})"

    def hex_int(self, sql: str, start: int, length: int) -> str:
        integer = "int" if length <= 7 else "bigint"
        return f"('x' || substr({sql}, {start}, {length}))::bit({4 * length})::{integer}"


HASHER = PostgresHasher
