"""The differential suite's fixed data: six small tables spread over five databases (two
PostgreSQL databases, a DuckDB file, a SQLite file, a MariaDB database), and the same rows
copied into one PostgreSQL schema, the oracle.

Rows come from a seeded `random.Random`, so every run and every machine sees the same data. The
values are chosen to make engines disagree: text that differs only in case, trailing spaces or
accents, `_`, `%` and backslashes; numeric halves; float8 halves; timestamps on the New York
daylight-saving switches and at midnights that are another day in UTC; NULLs everywhere.
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.servers.mariadb import MariaDBServer
from tests.servers.postgres import PostgresServer

#: Column type of each kind per database type. The oracle copies use PostgreSQL's: that is the
#: type a copy of the data gets on PostgreSQL (SQLite's INTEGER is 64-bit, so bigint).
DDL: dict[str, dict[str, str]] = {
    "postgres": {
        "int": "integer",
        "bigint": "bigint",
        "numeric": "numeric(12,2)",
        "float": "double precision",
        "text": "text",
        "varchar": "varchar(60)",
        "date": "date",
        "ts": "timestamp",
        "tstz": "timestamptz",
        "bool": "boolean",
    },
    "duckdb": {
        "int": "INTEGER",
        "bigint": "BIGINT",
        "numeric": "DECIMAL(12,2)",
        "float": "DOUBLE",
        "text": "VARCHAR",
        "date": "DATE",
        "ts": "TIMESTAMP",
        "tstz": "TIMESTAMPTZ",
        "bool": "BOOLEAN",
    },
    "sqlite": {"bigint": "INTEGER", "float": "REAL", "text": "TEXT"},
    "mysql": {
        "int": "INT",
        "bigint": "BIGINT",
        "numeric": "DECIMAL(12,2)",
        "float": "DOUBLE",
        "text": "TEXT",
        "varchar": "VARCHAR(60)",
        "date": "DATE",
        "ts": "DATETIME(6)",
    },
}

#: Profile output -> (database type, schema of its tables).
CONNECTIONS = {
    "pg": ("postgres", "src"),
    "pg2": ("postgres", "sales"),
    "duck": ("duckdb", "lake"),
    "lite": ("sqlite", "main"),
    "maria": ("mysql", None),  # MySQL's schema is its database: the world's MariaDB database
}
ORACLE_SCHEMA = "oracle"
PG_TIMEZONE = "America/New_York"
PG2_TIMEZONE = "UTC"


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    #: Draws one value (None for NULL) from the table's random generator.
    values: Callable[[random.Random, int], Any]


@dataclass(frozen=True)
class Table:
    name: str
    connection: str
    columns: tuple[Column, ...]
    #: A unique, non-null column: total orders (windows, LIMIT in subqueries) end with it.
    key: str
    rows: tuple[tuple[Any, ...], ...]

    def kind(self, column: str) -> str:
        return next(c.kind for c in self.columns if c.name == column)


# Value pools ------------------------------------------------------------------------------

NAMES = [
    "Ann", "ann", "ANN", "Ann ", " Ann", "Chloé", "chloé", "CHLOÉ", "Zoë", "Émile", "émile",
    "Bob", "bob", "Bob Smith", "O'Brien", "a_b", "a%b", "axb", "back\\slash", "", "Straße",
    "STRASSE", "Zed", "zed", "10", "9", "x y", "Ünal", "ünal", "Åsa", "åsa", "Mia", "mia ",
]  # fmt: skip
SEGMENTS = ["retail", "Retail", "RETAIL", "wholesale", "wholesale ", "online", "Online"]
STATUSES = ["shipped", "Shipped", "pending", "cancelled ", "returned", "SHIPPED"]
CATEGORIES = ["Books", "books", "Garden", "garden ", "Électronique", "electronique", "Toys"]
TITLES = [
    "Great", "great", "GREAT", "Great ", "Bad", "bad", "Okay", "okay ", "Meh", "Très bien",
    "tres bien", "TRÈS BIEN", "Zut", "a_b", "a%b", "50% off", "back\\slash",
]  # fmt: skip
NOTES = ["gift", "Gift", "GIFT ", "fragile", "Fragile", "rush", "", "à livrer", "A LIVRER"]
REGIONS = [
    ("NZ", "New Zealand"), ("FR", "France"), ("US", "United States"),
    ("us", "united states"), ("DE", "Germany"), ("JP", "Japan"), ("BR", "Brasil"),
    ("CA", "Canada"), ("ES", "España"), ("IT", "Italia"), ("GB", "United Kingdom"),
    ("MX", "México"),
]  # fmt: skip
REGION_CODES = [code for code, _ in REGIONS]

SPECIAL_DATES = [
    dt.date(2024, 2, 29), dt.date(2023, 12, 31), dt.date(2024, 1, 1), dt.date(2024, 3, 10),
    dt.date(2024, 11, 3), dt.date(2025, 1, 1),
]  # fmt: skip
SPECIAL_TS = [
    dt.datetime(2024, 3, 10, 2, 30),  # does not exist in New York
    dt.datetime(2024, 11, 3, 1, 30),  # happens twice in New York
    dt.datetime(2024, 1, 1, 0, 0),
    dt.datetime(2023, 12, 31, 23, 59, 59, 999999),
    dt.datetime(2024, 2, 29, 12, 0, 0, 500000),
]
UTC = dt.UTC
SPECIAL_TSTZ = [
    dt.datetime(2024, 3, 10, 6, 59, 59, tzinfo=UTC),  # 01:59:59 EST
    dt.datetime(2024, 3, 10, 7, 0, 0, tzinfo=UTC),  # 03:00:00 EDT
    dt.datetime(2024, 11, 3, 5, 30, tzinfo=UTC),  # 01:30 EDT
    dt.datetime(2024, 11, 3, 6, 30, tzinfo=UTC),  # 01:30 EST
    dt.datetime(2024, 1, 1, 3, 0, tzinfo=UTC),  # still 2023-12-31 in New York
    dt.datetime(2024, 1, 1, 5, 0, tzinfo=UTC),  # midnight in New York
    dt.datetime(2024, 6, 30, 23, 59, 59, 999999, tzinfo=UTC),
]
SPECIAL_NUMERIC = ["2.50", "-2.50", "0.05", "0.00", "1234567.89", "0.01", "-0.01", "3.35", "2.45"]
SPECIAL_FLOAT = [0.1, 0.2, 0.3, 2.5, -2.5, 0.5, 1.5, -0.5, 1e10, 1 / 3, 2 / 3, 1e-7, 123456.789]
SPECIAL_BIGINT = [2**53 + 1, -(2**53 + 1), 2**40, 0, 1, -1, 10**12]


def _nullable(draw: Callable[[random.Random, int], Any], rate: float = 0.1) -> Any:
    def values(rng: random.Random, i: int) -> Any:
        return None if rng.random() < rate else draw(rng, i)

    return values


def _pick(pool: Sequence[Any]) -> Callable[[random.Random, int], Any]:
    return lambda rng, i: rng.choice(pool)


def _ints(low: int, high: int) -> Callable[[random.Random, int], Any]:
    return lambda rng, i: rng.randint(low, high)


def _key(start: int = 1) -> Callable[[random.Random, int], Any]:
    return lambda rng, i: start + i


def _numeric(rng: random.Random, i: int) -> Decimal:
    if rng.random() < 0.25:
        return Decimal(rng.choice(SPECIAL_NUMERIC))
    return Decimal(rng.randint(-50_000, 500_000)) / 100


def _float(rng: random.Random, i: int) -> float:
    if rng.random() < 0.3:
        return rng.choice(SPECIAL_FLOAT)
    return rng.uniform(-1000, 1000)


def _bigint(rng: random.Random, i: int) -> int:
    if rng.random() < 0.3:
        return rng.choice(SPECIAL_BIGINT)
    return rng.randint(-(10**6), 10**9)


def _date(rng: random.Random, i: int) -> dt.date:
    if rng.random() < 0.2:
        return rng.choice(SPECIAL_DATES)
    return dt.date(2023, 1, 1) + dt.timedelta(days=rng.randint(0, 1095))


def _ts(rng: random.Random, i: int) -> dt.datetime:
    if rng.random() < 0.2:
        return rng.choice(SPECIAL_TS)
    moment = dt.datetime(2023, 1, 1) + dt.timedelta(seconds=rng.randint(0, 3 * 365 * 86400))
    return moment.replace(microsecond=rng.randint(0, 999_999)) if rng.random() < 0.3 else moment


def _tstz(rng: random.Random, i: int) -> dt.datetime:
    if rng.random() < 0.25:
        return rng.choice(SPECIAL_TSTZ)
    return _ts(rng, i).replace(tzinfo=UTC)


def _bool(rng: random.Random, i: int) -> bool:
    return rng.random() < 0.6


def _table(name: str, connection: str, key: str, count: int, seed: int, *columns: Column) -> Table:
    rng = random.Random(seed)
    rows = tuple(tuple(c.values(rng, i) for c in columns) for i in range(count))
    return Table(name, connection, tuple(columns), key, rows)


def _region_rows() -> Callable[[random.Random, int], Any]:
    return lambda rng, i: REGIONS[i][0]


TABLES: tuple[Table, ...] = (
    _table(
        "customers", "pg", "id", 60, 1,
        Column("id", "int", _key()),
        Column("name", "text", _nullable(_pick(NAMES))),
        Column("region", "text", _nullable(_pick([*REGION_CODES, "XX", "nz"]))),
        Column("segment", "text", _nullable(_pick(SEGMENTS))),
        Column("signup", "date", _nullable(_date)),
        Column("active", "bool", _nullable(_bool)),
        Column("credit", "numeric", _nullable(_numeric)),
        Column("score", "float", _nullable(_float)),
        Column("last_seen", "tstz", _nullable(_tstz)),
    ),
    _table(
        "orders", "pg2", "id", 240, 2,
        Column("id", "int", _key()),
        Column("customer_id", "int", _nullable(_ints(1, 66), 0.05)),
        Column("amount", "numeric", _nullable(_numeric)),
        Column("qty", "int", _nullable(_ints(0, 12))),
        Column("discount", "float", _nullable(_float)),
        Column("ordered_at", "tstz", _nullable(_tstz)),
        Column("local_ts", "ts", _nullable(_ts)),
        Column("shipped", "date", _nullable(_date)),
        Column("status", "text", _nullable(_pick(STATUSES))),
        Column("big", "bigint", _nullable(_bigint)),
    ),
    _table(
        "products", "duck", "id", 40, 3,
        Column("id", "int", _key()),
        Column("name", "text", _nullable(_pick(NAMES))),
        Column("category", "text", _nullable(_pick(CATEGORIES))),
        Column("price", "numeric", _nullable(_numeric)),
        Column("weight", "float", _nullable(_float)),
        Column("launched", "ts", _nullable(_ts)),
        Column("updated_at", "tstz", _nullable(_tstz)),
        Column("discontinued", "bool", _nullable(_bool)),
        Column("added", "date", _nullable(_date)),
    ),
    _table(
        "items", "duck", "line", 300, 4,
        Column("line", "bigint", _key(1000)),
        Column("order_id", "int", _nullable(_ints(1, 250), 0.03)),
        Column("product_id", "int", _nullable(_ints(1, 44), 0.03)),
        Column("qty", "int", _nullable(_ints(1, 9))),
        Column("unit_price", "numeric", _nullable(_numeric)),
        Column("note", "text", _nullable(_pick(NOTES), 0.3)),
    ),
    _table(
        "regions", "lite", "code", len(REGIONS), 5,
        Column("code", "text", _region_rows()),
        Column("name", "text", lambda rng, i: REGIONS[i][1]),
        Column("population", "bigint", _nullable(_bigint)),
        Column("area", "float", _nullable(_float)),
    ),
    _table(
        "reviews", "maria", "id", 150, 6,
        Column("id", "int", _key()),
        Column("product_id", "int", _nullable(_ints(1, 44), 0.03)),
        Column("customer_id", "int", _nullable(_ints(1, 64), 0.03)),
        Column("rating", "int", _nullable(_ints(1, 5))),
        Column("title", "varchar", _nullable(_pick(TITLES))),
        Column("body", "text", _nullable(_pick(NAMES))),
        Column("helpful", "numeric", _nullable(_numeric)),
        Column("score", "float", _nullable(_float)),
        Column("reviewed", "date", _nullable(_date)),
        Column("created", "ts", _nullable(_ts)),
    ),
)  # fmt: skip
BY_NAME = {t.name: t for t in TABLES}

#: Columns that join: (table, column) pairs whose values match.
LINKS: tuple[tuple[tuple[str, str], tuple[str, str]], ...] = (
    (("customers", "id"), ("orders", "customer_id")),
    (("customers", "id"), ("reviews", "customer_id")),
    (("customers", "region"), ("regions", "code")),
    (("orders", "id"), ("items", "order_id")),
    (("products", "id"), ("items", "product_id")),
    (("products", "id"), ("reviews", "product_id")),
)


# The world: databases holding the tables ---------------------------------------------------


@dataclass
class World:
    """Where each table lives, and the profile outputs that reach them."""

    postgres: PostgresServer
    mariadb: MariaDBServer
    pg_database: str
    pg2_database: str
    maria_database: str
    duck_file: Path
    sqlite_file: Path

    def schema_of(self, connection: str) -> str:
        return CONNECTIONS[connection][1] or self.maria_database

    def outputs(self) -> dict[str, dict[str, Any]]:
        from tests.functional.projects import duck_output, pg_output

        return {
            "pg": pg_output(self.postgres, self.pg_database, "analytics"),
            "pg2": pg_output(self.postgres, self.pg2_database, "analytics"),
            "duck": duck_output(self.duck_file, "lake"),
            "lite": {"type": "sqlite", "path": str(self.sqlite_file)},
            "maria": {
                "type": "mysql",
                "host": self.mariadb.host,
                "port": self.mariadb.port,
                "user": self.mariadb.user,
                "password": self.mariadb.password,
                "database": self.maria_database,
            },
        }

    def sources_yml(self) -> str:
        """One source per connection, named after it: `{{ source('pg2', 'orders') }}`."""
        lines = ["sources:"]
        for connection in CONNECTIONS:
            tables = [t.name for t in TABLES if t.connection == connection]
            lines += [
                f"  - name: {connection}",
                f"    schema: {self.schema_of(connection)}",
                f"    config: {{connection: {connection}}}",
                f"    tables: [{', '.join('{name: ' + t + '}' for t in tables)}]",
            ]
        return "\n".join(lines) + "\n"

    def pg_dsn(self) -> str:
        return self.postgres.dsn_for(self.pg_database)


def build_world(
    postgres: PostgresServer, mariadb: MariaDBServer, folder: Path, suffix: str
) -> World:
    world = World(
        postgres,
        mariadb,
        pg_database=f"diff_{suffix}",
        pg2_database=f"diff2_{suffix}",
        maria_database=f"diff_{suffix}",
        duck_file=folder / "warehouse.duckdb",
        sqlite_file=folder / "regions.sqlite",
    )
    postgres.create_database(world.pg_database)
    postgres.create_database(world.pg2_database)
    postgres.psql(
        f"alter database \"{world.pg_database}\" set timezone to '{PG_TIMEZONE}'; "
        f"alter database \"{world.pg2_database}\" set timezone to '{PG2_TIMEZONE}'"
    )
    mariadb.sql(f"create database {world.maria_database}")
    for table in TABLES:
        _load(world, table)
        _load_postgres(world.postgres.dsn_for(world.pg_database), ORACLE_SCHEMA, table)
    check_copies(world)
    return world


def _load(world: World, table: Table) -> None:
    kind, schema = CONNECTIONS[table.connection]
    if table.connection == "pg":
        _load_postgres(world.pg_dsn(), schema or "", table)
    elif table.connection == "pg2":
        _load_postgres(world.postgres.dsn_for(world.pg2_database), schema or "", table)
    elif kind == "duckdb":
        import duckdb

        with duckdb.connect(str(world.duck_file)) as conn:
            conn.execute(f"create schema if not exists {schema}")
            conn.execute(f"create table {schema}.{table.name} ({_columns_ddl('duckdb', table)})")
            marks = ", ".join("?" * len(table.columns))
            conn.executemany(f"insert into {schema}.{table.name} values ({marks})", table.rows)
    elif kind == "sqlite":
        from tests.functional.databases import sqlite_table

        sqlite_table(world.sqlite_file, table.name, _columns_ddl("sqlite", table), table.rows)
    else:
        values = ",\n".join(
            "(" + ", ".join(mysql_literal(v) for v in row) + ")" for row in table.rows
        )
        world.mariadb.sql(
            f"create table {table.name} ({_columns_ddl('mysql', table)}); "
            f"insert into {table.name} values {values}",
            world.maria_database,
        )


def _columns_ddl(database_type: str, table: Table) -> str:
    types = DDL[database_type]
    return ", ".join(f"{c.name} {types[c.kind]}" for c in table.columns)


def _load_postgres(dsn: str, schema: str, table: Table) -> None:
    import psycopg2
    import psycopg2.extras

    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(f"create schema if not exists {schema}")
        cur.execute(f"create table {schema}.{table.name} ({_columns_ddl('postgres', table)})")
        psycopg2.extras.execute_values(
            cur, f"insert into {schema}.{table.name} values %s", table.rows, page_size=1000
        )
        cur.execute(f"analyze {schema}.{table.name}")
    conn.close()


def mysql_literal(value: Any) -> str:
    """A MariaDB literal (backslashes escape in MariaDB string literals)."""
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return f"'{value.isoformat(sep=' ') if isinstance(value, dt.datetime) else value}'"
    return str(value)


# Every source holds exactly the oracle's rows ------------------------------------------


def check_copies(world: World) -> None:
    """Read every table back from its own database, with that database's driver, and compare
    with what the oracle copy holds: the oracle must answer over the same data."""
    import psycopg2

    with psycopg2.connect(world.pg_dsn()) as conn, conn.cursor() as cur:
        for table in TABLES:
            cur.execute(f"select * from {ORACLE_SCHEMA}.{table.name} order by {table.key}")
            oracle = [_plain(row) for row in cur.fetchall()]
            stored = sorted(
                (_plain(r) for r in _stored_rows(world, table)), key=lambda r: r[_key_at(table)]
            )
            expected = sorted((_plain(r) for r in table.rows), key=lambda r: r[_key_at(table)])
            assert oracle == expected, f"the oracle copy of {table.name} differs from its rows"
            assert stored == oracle, f"{table.connection}.{table.name} differs from its copy"
    conn.close()


def _key_at(table: Table) -> int:
    return [c.name for c in table.columns].index(table.key)


def _plain(row: Sequence[Any]) -> tuple[Any, ...]:
    """Aware datetimes as UTC instants, so each driver's choice of offset does not matter."""
    return tuple(v.astimezone(UTC) if isinstance(v, dt.datetime) and v.tzinfo else v for v in row)


def _stored_rows(world: World, table: Table) -> list[tuple[Any, ...]]:
    kind, schema = CONNECTIONS[table.connection]
    if kind == "postgres":
        import psycopg2

        database = world.pg_database if table.connection == "pg" else world.pg2_database
        with psycopg2.connect(world.postgres.dsn_for(database)) as conn, conn.cursor() as cur:
            cur.execute(f"select * from {schema}.{table.name}")
            rows = cur.fetchall()
        conn.close()
        return rows
    if kind == "duckdb":
        import duckdb

        with duckdb.connect(str(world.duck_file), read_only=True) as conn:
            return conn.execute(f"select * from {schema}.{table.name}").fetchall()
    if kind == "sqlite":
        with sqlite3.connect(world.sqlite_file) as conn:
            return conn.execute(f"select * from {table.name}").fetchall()
    return _mariadb_rows(world, table)


def _mariadb_rows(world: World, table: Table) -> list[tuple[Any, ...]]:
    """MariaDB's batch output, parsed back into Python values by column kind."""
    text = world.mariadb.sql(f"select * from {table.name}", world.maria_database)
    parse = {
        "int": int,
        "bigint": int,
        "numeric": Decimal,
        "float": float,
        "date": dt.date.fromisoformat,
        "ts": dt.datetime.fromisoformat,
        "text": _unescape_batch,
        "varchar": _unescape_batch,
    }
    rows = []
    for line in text.split("\n"):
        fields = line.split("\t")
        rows.append(
            tuple(
                None if f == "NULL" else parse[c.kind](f)
                for f, c in zip(fields, table.columns, strict=True)
            )
        )
    return rows


def _unescape_batch(field: str) -> str:
    return (
        field.replace("\\\\", "\x00")
        .replace("\\t", "\t")
        .replace("\\n", "\n")
        .replace("\x00", "\\")
    )
