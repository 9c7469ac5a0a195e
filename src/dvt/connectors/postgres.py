"""PostgreSQL through DuckDB's postgres scanner: reads run as PostgreSQL SQL on the server
(`postgres_query`), results are written with the scanner's COPY path."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from dvt.connectors import postgres_copy
from dvt.connectors.base import (
    AS_DOUBLE,
    AS_TEXT,
    AS_TIME,
    SCHEMA_LOCK,
    ZONED_TIME,
    Connector,
    typed_empty,
)
from dvt.connectors.scanned import ScannedServerConnector
from dvt.embedded import extension_path
from dvt.exceptions import InexactResultError
from dvt.planning.models import MISSING, VIEW, Estimates, Relation, RelationKey, RowEstimate
from dvt.planning.models import unknown as unknown_estimate
from dvt.quoting import quote_identifier, quote_literal
from dvt.scratch import SCRATCH_NAME, tag_of

if TYPE_CHECKING:
    from dvt.config.spec import TargetSpec

_VARCHAR = re.compile(r"(?:character varying|varchar)\((\d+)\)")
_DECIMAL = re.compile(r"DECIMAL\(\d+,\s*(\d+)\)")
_INTEGERS = frozenset(
    {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER"}
    | {"UBIGINT"}
)


#: The first key of DVT's advisory locks ('DVT'); the second is an invocation's tag.
_SCRATCH_LOCK_CLASS = 0x445654


def _lock_key(tag: str) -> int:
    """An invocation tag (8 hex digits) as the signed 32-bit key of its advisory lock."""
    value = int(tag, 16)
    return value - (1 << 32) if value >= 1 << 31 else value


class PostgresConnector(ScannedServerConnector):
    dialect = "postgres"
    #: JIT would compile the plan of a query that never runs (TPC-DS q10 at sf 0.1: 0.40 s of
    #: the typing statement's 0.43 s). A multi-statement string is one transaction, so
    #: `SET LOCAL` ends with it.
    typing_preamble = "SET LOCAL jit = off; "
    reads_instants = True
    read_cost = 0.35
    write_cost = 1.0
    compute_cost = 0.5
    #: PostgreSQL materializes a CTE read more than once and joins it without statistics of its
    #: columns: the join order is a guess (TPC-DS q59 at sf 0.01: a nested loop scanning 26M
    #: rows for 100K input rows, 5.7 s where DuckDB takes 0.3 s).
    reused_cte_factor = 10.0
    #: PostgreSQL runs a correlated scalar subquery (and a correlated IN, an EXISTS under OR)
    #: once per outer row, scanning its inputs each time: TPC-DS q06 at sf 0.1 runs one over
    #: 1,800 items for each of 1,800 items, 0.33 s of its 0.37 s; DuckDB joins it.
    correlated_subquery_cost = 0.1
    lossy_types: ClassVar[Mapping[str, str]] = {
        "numeric": AS_DOUBLE,
        r"numeric\((\d+)(?:,\d+)?\)": AS_DOUBLE,
        r"money|jsonb?|xml|bit(?: varying)?(?:\(\d+\))?": AS_TEXT,
        ZONED_TIME: AS_TIME,
    }
    extension = "postgres_scanner"
    scanner_type = "postgres"
    #: An unlogged table's init forks (six files for a table with text, against three) cost
    #: ~2.5 ms more to create than the WAL of 5 rows; the two are even at ~20,000 rows of three
    #: columns, and unlogged wins past that (measured on the test machine).
    logged_cells = 60_000

    @staticmethod
    def secret(options: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "HOST": options.get("host"),
            "PORT": options.get("port", 5432),
            "USER": options.get("user"),
            "PASSWORD": options.get("password") or options.get("pass") or "",
            "DATABASE": options.get("dbname") or options.get("database"),
        }

    @classmethod
    def estimates(
        cls,
        spec: TargetSpec,
        relations: Sequence[Relation],
        adapter_rows: Callable[[str], list[tuple[Any, ...]]],
    ) -> Estimates:
        """`pg_class.reltuples`, kept by ANALYZE and autovacuum."""
        wanted = ", ".join(
            f"({quote_literal(r.schema)}, {quote_literal(r.name)})" for r in relations
        )
        rows = adapter_rows(
            "select n.nspname, c.relname, c.relkind, c.reltuples from pg_class c join "
            f"pg_namespace n on n.oid = c.relnamespace where (n.nspname, c.relname) in ({wanted})"
        )
        found = {(schema, name): (kind, tuples) for schema, name, kind, tuples in rows}
        estimates = {}
        for relation in relations:
            kind, tuples = found.get((relation.schema, relation.name), (None, None))
            if kind is None:
                estimates[relation.unique_id] = MISSING
            elif kind == "v":
                estimates[relation.unique_id] = VIEW
            elif tuples < 0:  # PostgreSQL 14+: never vacuumed or analyzed
                estimates[relation.unique_id] = unknown_estimate("not analyzed yet")
            else:
                estimates[relation.unique_id] = RowEstimate(round(tuples), "estimate")
        return estimates

    @classmethod
    def import_type(cls, source_type: str, target_dialect: str) -> str | None:
        """A length of a character type, which the engine's VARCHAR drops (the binary COPY of
        text fits `character varying(n)` unchanged)."""
        found = _VARCHAR.fullmatch(source_type.lower())
        if target_dialect == "postgres" and found:
            return f"character varying({found.group(1)})"
        return None

    def columns_sql(self, key: RelationKey) -> str:
        relation = self.table(key).sql(dialect="postgres")
        return (
            "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
            f"WHERE a.attrelid = {quote_literal(relation)}::regclass "
            "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum"
        )

    def connection_options(self) -> str:
        # Names the engine's server sessions, so Ctrl-C can cancel them server-side: DuckDB's
        # postgres scanner does not stop a running query when the engine is interrupted.
        return f"application_name={self.application_name}"

    @property
    def application_name(self) -> str:
        return f"dvt_{os.getpid()}_{self.spec.name}"

    def on_attach(self) -> None:
        self.session.on_interrupt(self.cancel_server_queries)

    def cancel_server_queries(self) -> None:
        adapter = self.session.adapter_for(self.spec.name)
        with adapter.connection_named("dvt_cancel"):
            adapter.execute(
                "select pg_cancel_backend(pid) from pg_stat_activity "
                f"where application_name = {quote_literal(self.application_name)}",
                fetch=True,
            )

    def stage(
        self,
        engine_sql: str,
        relation: RelationKey,
        *,
        typed_sql: str | None = None,
        logged: bool = False,
        column_types: Mapping[str, str] | None = None,
        on: Any | None = None,
    ) -> int:
        """Create the staging table empty and COPY the result into it, in one transaction on a
        connection of the node's own (`postgres_copy`): a load cut short (the server or dvt
        stopped, the connection lost) fails the node only, and leaves no staging table behind.
        Its types are PostgreSQL's own for `typed_sql`, else the scanner's mapping of the
        engine's (its VARCHAR as `text`, as PostgreSQL models write it). A stage is UNLOGGED
        (writing WAL twice is waste) unless `logged` (renamed into place, or small). `on`: a
        DuckDB cursor that encodes the rows instead of the engine's (it loads the postgres
        extension for the encoder)."""
        self._attach()  # so that Ctrl-C cancels the load too (`cancel_server_queries`)
        duckdb = on or self.session.cursor
        if on is not None:
            on.execute(f"LOAD '{_encoder()}'")
        server_table = self.table(relation).sql(dialect="postgres")
        kind = "TABLE" if logged else "UNLOGGED TABLE"
        if typed_sql is None:
            result = duckdb.sql(f"SELECT * FROM ({engine_sql}) AS dvt_result")
            declared = column_types or {}
            definition = ", ".join(
                f"{quote_identifier(name)} "
                f"{declared.get(name) or postgres_copy.created_type(duckdb_type)}"
                for name, duckdb_type in zip(result.columns, result.types, strict=True)
            )
            create = f"CREATE {kind} {server_table} ({definition})"
        else:
            create = (
                f"{self.typing_preamble}CREATE {kind} {server_table} AS {typed_empty(typed_sql)}"
            )
        schema = quote_identifier(relation.schema)
        opened = self._kept_connection(f"DROP TABLE IF EXISTS {server_table}")
        with opened as connection, connection.cursor() as cursor:
            with SCHEMA_LOCK:
                cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            try:
                cursor.execute(f"BEGIN; {create}")
                cursor.execute(postgres_copy.COLUMNS_SQL, (server_table,))
                columns = [postgres_copy.TargetColumn(*row) for row in cursor.fetchall()]
                numerics: dict[str, str] = {}
                if typed_sql is not None:
                    columns, numerics = _scaled_numerics(columns, duckdb, engine_sql)
                    for statement in _alter_types(server_table, numerics):
                        cursor.execute(statement)
                rows = postgres_copy.copy_from_engine(
                    duckdb,
                    cursor,
                    postgres_copy.plan_copy(engine_sql, columns),
                    server_table,
                    self.session.end_streams,
                )
                restored = dict.fromkeys(numerics, "numeric")
                for statement in _alter_types(server_table, restored):
                    cursor.execute(statement)
                cursor.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(Exception):  # a lost server rolls back itself
                    cursor.execute("ROLLBACK")
                raise
        return rows

    def execute(self, sql: str) -> None:
        self._attach()
        self.server_execute(sql)

    def inexact_columns(self, typed_sql: str, relation: RelationKey) -> list[str]:
        """An unconstrained `numeric` result (PostgreSQL's type for sums and arithmetic of
        numerics) reaches the scanner's COPY as DOUBLE: its digits and scale are not kept."""
        table = self.create_typed(relation, typed_sql)
        try:
            found = self.rows(
                "SELECT attname::text FROM pg_attribute WHERE attrelid = "
                f"{quote_literal(table)}::regclass AND attnum > 0 AND NOT attisdropped "
                "AND atttypid = 'numeric'::regtype AND atttypmod = -1 ORDER BY attnum"
            )
        finally:
            self.execute(f"DROP TABLE IF EXISTS {table}")
        return [f"{name!r} would be an unconstrained numeric" for (name,) in found]

    def warm_up(self, loads: bool) -> None:
        super().warm_up(loads)
        if loads:  # a connection of DVT's own, kept for the first load
            self._on_kept_connection("")

    def warm_up_imports(self, source: Connector) -> bool:
        # Loading the extension into a database takes ~0.1 s: the first imports would wait.
        cursor = source.duckdb_cursor("SELECT 1")
        if cursor is None:
            return False
        try:
            cursor.execute(f"LOAD '{_encoder()}'")
        finally:
            cursor.close()
        return True

    def analyze(self, relation: RelationKey) -> None:
        self._attach()
        self._on_kept_connection(f"ANALYZE {self.table(relation).sql(dialect='postgres')}")

    def estimated_rows(self, key: RelationKey) -> int | None:
        table = quote_literal(self.table(key).sql(dialect="postgres"))
        found = self.server_row(
            f"SELECT reltuples::bigint FROM pg_class WHERE oid = {table}::regclass"
        )
        return int(found[0]) if found and found[0] is not None and found[0] >= 0 else None

    def orders_text_bytewise(self, relations: Sequence[RelationKey]) -> bool:
        """The database's collation is libc's C (or POSIX), and no column of `relations` has
        a collation of its own but those (OIDs 100, 950, 951: default, C, POSIX)."""
        tables = ", ".join(
            f"{quote_literal(self.table(key).sql(dialect='postgres'))}::regclass"
            for key in relations
        )
        own_collations = (
            "SELECT 1 FROM pg_attribute a WHERE a.attrelid IN ("
            f"{tables}) AND a.attnum > 0 AND NOT a.attisdropped "
            "AND a.attcollation NOT IN (0, 100, 950, 951)"
            if relations
            else "SELECT 1 WHERE false"
        )
        found = self.server_row(
            "SELECT d.datcollate IN ('C', 'POSIX') "
            "AND coalesce(to_jsonb(d) ->> 'datlocprovider', 'c') = 'c' "
            f"AND NOT EXISTS ({own_collations}) "
            "FROM pg_database d WHERE d.datname = current_database()"
        )
        return bool(found and found[0])

    def drop_stage(self, relation: RelationKey) -> None:
        self._attach()
        # On the server (the stage may have been renamed, or written by Spark): the engine's
        # catalog may still list it, which is harmless as a stage name is used once per run.
        table = self.table(relation).sql(dialect="postgres")
        self._on_kept_connection(f"DROP TABLE IF EXISTS {table}")

    def hold_scratch(self, tag: str) -> Any:
        """A connection of its own holding a session-level advisory lock keyed on the tag: the
        server releases it when the invocation closes it, or dies."""
        connection = self._own_connection("dvt_scratch_claim")
        with connection.cursor() as cursor:
            cursor.execute(
                "select pg_try_advisory_lock(%s, %s)", (_SCRATCH_LOCK_CLASS, _lock_key(tag))
            )
        return connection

    def sweep_scratch(self, tag: str, proof: Any) -> list[tuple[str, str]]:
        """A scratch relation is dead when its invocation's lock can be taken: it is dropped
        while the lock is held, then the lock is released."""
        if proof is None:
            return []
        dropped: list[tuple[str, str]] = []
        with proof.cursor() as cursor:
            cursor.execute("set lock_timeout = '5s'")
            cursor.execute(
                "select n.nspname::text, c.relname::text from pg_class c join pg_namespace n "
                "on n.oid = c.relnamespace where c.relkind in ('r', 'p') and c.relname ~ %s",
                (SCRATCH_NAME.pattern,),
            )
            by_tag: dict[str, list[tuple[str, str]]] = {}
            for schema, name in cursor.fetchall():
                other = tag_of(name)
                if other is not None and other != tag:
                    by_tag.setdefault(other, []).append((schema, name))
            for other, relations in by_tag.items():
                key = (_SCRATCH_LOCK_CLASS, _lock_key(other))
                cursor.execute("select pg_try_advisory_lock(%s, %s)", key)
                if not cursor.fetchone()[0]:
                    continue  # its invocation still runs
                try:
                    for schema, name in relations:
                        table = self.table(RelationKey("", schema, name)).sql(dialect="postgres")
                        cursor.execute(f"DROP TABLE IF EXISTS {table}")
                        dropped.append((schema, name))
                finally:
                    cursor.execute("select pg_advisory_unlock(%s, %s)", key)
        return dropped

    def _kept_connection(self, first: str = "") -> contextlib.AbstractContextManager[Any]:
        """An auto-commit connection of DVT's own, kept by the invocation between loads and
        named so that Ctrl-C cancels its work (`cancel_server_queries`); `first` runs on it
        before it is lent, which also proves a kept one still alive."""

        def ready(connection: Any) -> None:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SET application_name = {quote_literal(self.application_name)}; {first}"
                )

        return self.session.borrow_connection(
            self.spec.name, lambda: self._own_connection("dvt_load"), ready
        )

    def _on_kept_connection(self, statement: str) -> None:
        """Run one statement on a kept connection, in the round trip that names it."""
        with self._kept_connection(statement):
            pass

    def _own_connection(self, name: str) -> Any:
        """A new auto-commit psycopg2 connection to this target, opened by dbt-postgres from
        the output's credentials (SSL, role, search_path as dbt's own)."""
        from dbt.adapters.contracts.connection import Connection

        adapter = self.session.adapter_for(self.spec.name)
        connection = Connection(adapter.type(), name, adapter.config.credentials)
        handle = adapter.connections.open(connection).handle
        handle.autocommit = True
        return handle

    def server_execute(self, statement: str) -> None:
        """Run a statement on the server, in the engine cursor's transaction."""
        self.session.cursor.execute(
            f"CALL postgres_execute('{self.alias}', {quote_literal(statement)})"
        )

    def split_key(
        self, key: RelationKey, columns: Sequence[str]
    ) -> tuple[str, int, int, int] | None:
        table = quote_literal(self.table(key).sql(dialect="postgres"))
        found = self.server_row(
            "SELECT a.attname::text, c.reltuples::bigint FROM pg_index i "
            "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] "
            "JOIN pg_class c ON c.oid = i.indrelid "
            f"WHERE i.indrelid = {table}::regclass AND i.indisprimary AND i.indnatts = 1 "
            "AND a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype)"
        )
        if found is None or found[0] not in columns:
            return None
        column, estimate = found
        name = quote_identifier(column)
        bounds = self.server_row(
            f"SELECT min({name}), max({name}) FROM {self.table(key).sql('postgres')}"
        )
        low, high = bounds or (None, None)
        if low is None:
            return None
        return column, int(low), int(high), int(estimate) if estimate > 0 else int(high - low + 1)


def _scaled_numerics(
    columns: list[postgres_copy.TargetColumn], duckdb: Any, engine_sql: str
) -> tuple[list[postgres_copy.TargetColumn], dict[str, str]]:
    """The stage's unconstrained `numeric` columns (PostgreSQL's type for sums and products of
    numerics), each as `numeric(38, s)` for the engine's exact DECIMAL(p, s) or integer result:
    the binary COPY carries DECIMAL values with their scale, and the column is an unconstrained
    numeric again afterwards. An engine VARCHAR (a quotient's text) keeps the column as it is:
    PostgreSQL reads each value's digits and scale from the text. Returns the columns so
    typed, and each such column's type. An inexact engine type (DOUBLE) raises
    InexactResultError: the node goes back to its target."""
    unbounded = [
        index
        for index, column in enumerate(columns)
        if column.type_name == "numeric" and column.modifier == -1 and column.element is None
    ]
    if not unbounded:
        return columns, {}
    described = duckdb.execute(f"DESCRIBE SELECT * FROM ({engine_sql}) AS dvt_result").fetchall()
    scaled, typed = {}, list(columns)
    for index in unbounded:
        column, engine_type = columns[index], str(described[index][1])
        if engine_type == "VARCHAR":
            continue  # a numeric's text (`planning.numeric`): read with its scale, as COPY CSV
        decimal = _DECIMAL.fullmatch(engine_type)
        if decimal is None and engine_type not in _INTEGERS:
            raise InexactResultError(
                f"its column {column.name!r} is an unconstrained numeric on the target, and "
                f"{engine_type} in the engine"
            )
        scale = int(decimal.group(1)) if decimal else 0
        scaled[column.name] = f"numeric(38, {scale})"
        # PostgreSQL's type modifier of numeric(p, s): ((p << 16) | s) + VARHDRSZ.
        typed[index] = dataclasses.replace(column, modifier=((38 << 16) | scale) + 4)
    return typed, scaled


@functools.cache
def _encoder() -> Path:
    """The postgres extension's binary, whose COPY encoder a DuckDB source loads."""
    return extension_path(PostgresConnector.extension)


def _alter_types(server_table: str, types: Mapping[str, str]) -> list[str]:
    """The statement giving columns of a table new types (none when there are none)."""
    if not types:
        return []
    changes = ", ".join(f"ALTER COLUMN {quote_identifier(c)} TYPE {t}" for c, t in types.items())
    return [f"ALTER TABLE {server_table} {changes}"]


CONNECTOR = PostgresConnector
