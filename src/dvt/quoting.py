"""SQL text helpers shared by connectors and seeds (no heavy imports)."""

from __future__ import annotations


def quote_literal(text: str) -> str:
    """`text` as a single-quoted SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def quote_identifier(name: str) -> str:
    """`name` as a double-quoted SQL identifier (standard SQL, PostgreSQL and DuckDB)."""
    return '"' + name.replace('"', '""') + '"'
