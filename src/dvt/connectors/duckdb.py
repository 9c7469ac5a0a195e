"""DuckDB targets, read and written through the target's own dbt-duckdb connection.

A DuckDB file allows one writing process, and dbt-duckdb already holds it open, so the engine
never attaches it: reads stream out of the target as Arrow record batches, and results stream
in the same way.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from dvt.connectors.base import Connector
from dvt.planning.models import RelationKey
from dvt.runners.session import BATCH_ROWS

if TYPE_CHECKING:
    from dvt.staging import Staging

#: (invocation, target, bucket) whose secret the target's database already holds.
_BUCKETS_SET_UP: set[tuple[str, str, str]] = set()
_BUCKETS_LOCK = threading.Lock()


class DuckDBConnector(Connector):
    dialect = "duckdb"

    def _cursor(self) -> Any:
        """A fresh cursor on the target's database (each stream needs its own)."""
        return self.session.target_handle(self.spec.name).cursor().cursor()

    def columns(self, key: RelationKey) -> Sequence[tuple[str, str]]:
        rows = (
            self._cursor().execute(f"DESCRIBE {self.table(key).sql(dialect='duckdb')}").fetchall()
        )
        return [(row[0], row[1]) for row in rows]

    def scalar(self, sql: str) -> Any:
        row = self._cursor().execute(sql).fetchone()
        return row[0] if row else None

    def stream(self, sql: str) -> Any:
        return self._cursor().execute(sql).to_arrow_reader(BATCH_ROWS)

    def stage(self, engine_sql: str, relation: RelationKey) -> int:
        reader = self.session.cursor.execute(engine_sql).to_arrow_reader(BATCH_ROWS)
        return self.stage_arrow(reader, relation)

    def stage_arrow(self, reader: Any, relation: RelationKey) -> int:
        target = self._cursor()
        target.register("dvt_result", reader)
        rows = self._create(target, "SELECT * FROM dvt_result", relation)
        target.unregister("dvt_result")
        return rows

    def load_files(self, staging: Staging, name: str, relation: RelationKey) -> int:
        """The target's own DuckDB reads the Parquet files (S3 through httpfs and a secret)."""
        target = self._cursor()
        self._set_up_bucket(target, staging)
        return self._create(target, staging.read_sql(name), relation)

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
        table = self.table(relation).sql(dialect="duckdb")
        target.execute(f'CREATE SCHEMA IF NOT EXISTS "{relation.catalog}"."{relation.schema}"')
        target.execute(f"DROP TABLE IF EXISTS {table}")
        (rows,) = target.execute(f"CREATE TABLE {table} AS {select}").fetchone()
        return int(rows)

    def drop_stage(self, relation: RelationKey) -> None:
        self._cursor().execute(f"DROP TABLE IF EXISTS {self.table(relation).sql(dialect='duckdb')}")
