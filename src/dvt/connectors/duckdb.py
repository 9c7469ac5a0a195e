"""DuckDB targets, read and written through the target's own dbt-duckdb connection.

A DuckDB file allows one writing process, and dbt-duckdb already holds it open, so the engine
never attaches it: reads stream out of the target as Arrow record batches, and results stream
in the same way.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from dvt.connectors.base import Connector
from dvt.planning.models import Extraction, RelationKey

BATCH_ROWS = 122_880  # DuckDB's row-group size


def counted(reader: Any, counter: list[int]) -> Any:
    """The same Arrow stream, counting rows as they pass."""
    import pyarrow as pa

    def batches() -> Iterator[Any]:
        for batch in reader:
            counter[0] += batch.num_rows
            yield batch

    return pa.RecordBatchReader.from_batches(reader.schema, batches())


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

    def expose(self, extraction: Extraction, key: RelationKey) -> str:
        sql = self.extraction_sql(extraction, key)
        reader = self._cursor().execute(sql).to_arrow_reader(BATCH_ROWS)
        self.session.keep(reader)
        self.session.cursor.register(extraction.engine_name, reader)
        return sql

    def stage(self, engine_sql: str, relation: RelationKey) -> int:
        rows = [0]
        reader = counted(self.session.cursor.execute(engine_sql).to_arrow_reader(BATCH_ROWS), rows)
        target = self._cursor()
        table = self.table(relation).sql(dialect="duckdb")
        target.execute(f'CREATE SCHEMA IF NOT EXISTS "{relation.catalog}"."{relation.schema}"')
        target.execute(f"DROP TABLE IF EXISTS {table}")
        target.register("dvt_result", reader)
        target.execute(f"CREATE TABLE {table} AS SELECT * FROM dvt_result")
        target.unregister("dvt_result")
        return rows[0]

    def drop_stage(self, relation: RelationKey) -> None:
        self._cursor().execute(f"DROP TABLE IF EXISTS {self.table(relation).sql(dialect='duckdb')}")
