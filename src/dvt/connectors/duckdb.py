"""DuckDB targets, read and written through the target's own dbt-duckdb connection.

A DuckDB file allows one writing process, and dbt-duckdb already holds it open, so the engine
never attaches it: reads stream out of the target as Arrow record batches, and results stream
in the same way.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from dvt.connectors.base import (
    AS_TIME,
    BATCH_ROWS,
    SCHEMA_LOCK,
    ZONED_TIME,
    Connector,
    typed_empty,
)
from dvt.embedded import register_stream
from dvt.planning.models import MISSING, VIEW, Estimates, Relation, RelationKey, RowEstimate
from dvt.quoting import quote_literal
from dvt.scratch import tag_of

if TYPE_CHECKING:
    from dvt.config.spec import TargetSpec
    from dvt.staging import Staging

#: (invocation, target, bucket) whose secret the target's database already holds.
_BUCKETS_SET_UP: set[tuple[str, str, str]] = set()
_BUCKETS_LOCK = threading.Lock()


class DuckDBConnector(Connector):
    dialect = "duckdb"
    #: As PostgreSQL, in any TimeZone (tests/functional/test_same_semantics.py).
    reads_instants = True
    lossy_types: ClassVar[Mapping[str, str]] = {ZONED_TIME: AS_TIME}

    @classmethod
    def estimates(
        cls,
        spec: TargetSpec,
        relations: Sequence[Relation],
        adapter_rows: Callable[[str], list[tuple[Any, ...]]],
    ) -> Estimates:
        """`estimated_size` of each table; views keep none."""
        rows = adapter_rows(
            "select database_name, schema_name, table_name, estimated_size from duckdb_tables() "
            "union all select database_name, schema_name, view_name, null from duckdb_views() "
            "where not internal"
        )
        found = {(d.lower(), s.lower(), n.lower()): size for d, s, n, size in rows}
        estimates = {}
        for relation in relations:
            key = (
                (relation.database or "").lower(),
                relation.schema.lower(),
                relation.name.lower(),
            )
            if key not in found:
                estimates[relation.unique_id] = MISSING
            elif found[key] is None:
                estimates[relation.unique_id] = VIEW
            else:
                estimates[relation.unique_id] = RowEstimate(int(found[key]), "estimate")
        return estimates

    read_cost = 0.2
    write_cost = 0.3
    compute_cost = 0.05

    def _cursor(self) -> Any:
        """A fresh cursor on the target's database (each stream needs its own)."""
        return self.session.target_handle(self.spec.name).cursor().cursor()

    def warm_up(self, loads: bool) -> None:
        self._cursor().close()  # opens the database, once per invocation

    def columns(self, key: RelationKey) -> Sequence[tuple[str, str]]:
        rows = (
            self._cursor().execute(f"DESCRIBE {self.table(key).sql(dialect='duckdb')}").fetchall()
        )
        return [(row[0], row[1]) for row in rows]

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self._cursor().execute(sql).fetchall()]

    def estimated_rows(self, key: RelationKey) -> int | None:
        found = self.rows(
            "SELECT estimated_size FROM duckdb_tables() WHERE lower(database_name) = "
            f"{quote_literal(key.catalog.lower())} AND lower(schema_name) = "
            f"{quote_literal(key.schema.lower())} AND lower(table_name) = "
            f"{quote_literal(key.name.lower())}"
        )
        return int(found[0][0]) if found and found[0][0] is not None else None

    def stream(self, sql: str) -> Any:
        return self._cursor().execute(sql).to_arrow_reader(BATCH_ROWS)

    def duckdb_cursor(self, sql: str) -> Any | None:
        """Not for MotherDuck, nor a database that may not write files (the COPY's pipe)."""
        credentials = self.session.adapter_for(self.spec.name).config.credentials
        if getattr(credentials, "is_motherduck", False):
            return None
        cursor = self._cursor()
        (external,) = cursor.execute("SELECT current_setting('enable_external_access')").fetchone()
        if external and all(_same_through_arrow(kind) for kind in cursor.sql(sql).types):
            return cursor
        cursor.close()
        return None

    def execute(self, sql: str) -> None:
        self._cursor().execute(sql)

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
        reader = (on or self.session.cursor).execute(engine_sql).to_arrow_reader(BATCH_ROWS)
        return self.stage_arrow(reader, relation, typed_sql=typed_sql)

    def stage_arrow(self, reader: Any, relation: RelationKey, typed_sql: str | None = None) -> int:
        target = self._cursor()
        register_stream(target, "dvt_result", reader)
        try:
            if typed_sql is None:
                return self._create(target, "SELECT * FROM dvt_result", relation)
            table = self._create_empty(target, typed_sql, relation)
            (rows,) = target.execute(f"INSERT INTO {table} SELECT * FROM dvt_result").fetchone()
            return int(rows)
        finally:
            target.unregister("dvt_result")

    def load_files(
        self,
        staging: Staging,
        name: str,
        relation: RelationKey,
        *,
        typed_sql: str | None = None,
        logged: bool = False,
        column_types: Mapping[str, str] | None = None,
    ) -> int:
        """The target's own DuckDB reads the Parquet files (S3 through httpfs and a secret)."""
        target = self._cursor()
        self._set_up_bucket(target, staging)
        if typed_sql is None:
            return self._create(target, staging.read_sql(name), relation)
        table = self._create_empty(target, typed_sql, relation)
        (rows,) = target.execute(f"INSERT INTO {table} {staging.read_sql(name)}").fetchone()
        return int(rows)

    def _set_up_bucket(self, target: Any, staging: Staging) -> None:
        """Load httpfs and create the bucket's secret on the target's database once per
        invocation: nodes running in parallel would conflict creating the same secret."""
        from dvt.staging import duckdb_setup

        key = (staging.invocation_id, self.spec.name, staging.bucket.name)
        with _BUCKETS_LOCK:
            if key in _BUCKETS_SET_UP:
                return
            for statement in duckdb_setup(staging.bucket):
                target.execute(statement)
            _BUCKETS_SET_UP.add(key)

    def _create(self, target: Any, select: str, relation: RelationKey) -> int:
        table = self._fresh(target, relation)
        (rows,) = target.execute(f"CREATE TABLE {table} AS {select}").fetchone()
        return int(rows)

    def _create_empty(self, target: Any, typed_sql: str, relation: RelationKey) -> str:
        """The relation, empty, with the columns and types this database gives `typed_sql`."""
        table = self._fresh(target, relation)
        target.execute(f"CREATE TABLE {table} AS {typed_empty(typed_sql)}")
        return table

    def _fresh(self, target: Any, relation: RelationKey) -> str:
        table = self.table(relation).sql(dialect="duckdb")
        with SCHEMA_LOCK:
            target.execute(f'CREATE SCHEMA IF NOT EXISTS "{relation.catalog}"."{relation.schema}"')
        target.execute(f"DROP TABLE IF EXISTS {table}")
        return table

    def drop_stage(self, relation: RelationKey) -> None:
        self._cursor().execute(f"DROP TABLE IF EXISTS {self.table(relation).sql(dialect='duckdb')}")

    def sweep_scratch(self, tag: str, proof: Any) -> list[tuple[str, str]]:
        """Only one process opens a DuckDB file for writing, and dbt-duckdb keeps it open for
        the whole invocation (`keep_open`, its default): every other invocation's scratch
        relation in it is dead. Not swept when the file may be shared meanwhile (`keep_open:
        false`, MotherDuck)."""
        credentials = self.session.adapter_for(self.spec.name).config.credentials
        if not getattr(credentials, "keep_open", True) or getattr(
            credentials, "is_motherduck", False
        ):
            return []
        found = self.rows(
            "SELECT database_name, schema_name, table_name FROM duckdb_tables() "
            "WHERE database_name = current_database() AND NOT temporary"
        )
        dropped = []
        for database, schema, name in found:
            other = tag_of(name)
            if other is None or other == tag:
                continue
            self.drop_stage(RelationKey(database, schema, name))
            dropped.append((schema, name))
        return dropped


#: DuckDB types an Arrow stream hands to another DuckDB as they are (HUGEINT arrives as
#: DECIMAL(38,0), ENUM and JSON as VARCHAR, UUID as VARCHAR, TIMETZ as TIME, BIT as BLOB).
_ARROW_SAME = frozenset(
    {
        "boolean", "tinyint", "smallint", "integer", "bigint", "utinyint", "usmallint",
        "uinteger", "ubigint", "float", "double", "decimal", "varchar", "blob", "date", "time",
        "timestamp", "timestamp_s", "timestamp_ms", "timestamp_ns", "timestamp with time zone",
        "interval",
    }
)  # fmt: skip


def _same_through_arrow(kind: Any) -> bool:
    if kind.id == "list":
        (_, child), *_ = kind.children
        return _same_through_arrow(child)
    return kind.id in _ARROW_SAME and str(kind) != "JSON"


CONNECTOR = DuckDBConnector
