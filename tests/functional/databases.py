"""Read whole relations from the test databases, for row-for-row comparisons."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dvt.testing.postgres import PostgresServer


def pg_rows(server: PostgresServer, database: str, relation: str) -> list[tuple[Any, ...]]:
    import psycopg2

    with psycopg2.connect(server.dsn_for(database)) as conn, conn.cursor() as cur:
        cur.execute(f"select * from {relation}")
        return sorted(cur.fetchall(), key=repr)


def pg_relations(server: PostgresServer, database: str, schema: str) -> dict[str, str]:
    """{name: 'BASE TABLE' | 'VIEW'} of one schema."""
    import psycopg2

    with psycopg2.connect(server.dsn_for(database)) as conn, conn.cursor() as cur:
        cur.execute(
            "select table_name, table_type from information_schema.tables where table_schema = %s",
            (schema,),
        )
        return dict(cur.fetchall())


def duck_rows(path: Path, relation: str) -> list[tuple[Any, ...]]:
    import duckdb

    with duckdb.connect(str(path)) as conn:
        return sorted(conn.sql(f"select * from {relation}").fetchall(), key=repr)


def duck_relations(path: Path, schema: str) -> dict[str, str]:
    import duckdb

    with duckdb.connect(str(path)) as conn:
        rows = conn.execute(
            "select table_name, table_type from information_schema.tables where table_schema = ?",
            [schema],
        ).fetchall()
    return dict(rows)
