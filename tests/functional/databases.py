"""Read whole relations from the test databases, for row-for-row comparisons, and write the
SQLite files the tests read from."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.servers.postgres import PostgresServer


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


def sqlite_table(path: Path, table: str, columns: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """Create `table (columns)` in a SQLite file and insert `rows`."""
    with sqlite3.connect(path) as conn:
        conn.execute(f"create table {table} ({columns})")
        marks = ", ".join("?" * len(rows[0]))
        conn.executemany(f"insert into {table} values ({marks})", rows)
