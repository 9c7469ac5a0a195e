"""SQL text helpers shared by connectors and seeds (no heavy imports)."""

from __future__ import annotations


def quote_literal(text: str) -> str:
    """`text` as a single-quoted SQL string literal."""
    return "'" + text.replace("'", "''") + "'"
