"""What one federated node holds while it runs: an engine cursor, its connectors, the input
streams, the bucket folder, and everything to close when it ends."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import sqlglot
import sqlglot.errors
import sqlglot.expressions as exp
from dbt.adapters.contracts.connection import ConnectionState

from dvt import connectors, events
from dvt.connectors.base import BATCH_ROWS, Connector
from dvt.embedded import register_stream
from dvt.execution.progress import Progress
from dvt.planning.models import Extraction, FederationPlan, PlanInput, RelationKey
from dvt.planning.planner import parse_model_sql, plan_federation
from dvt.planning.rewrite import Spans, relation_spans
from dvt.planning.semantics import Reading

if TYPE_CHECKING:
    from dvt.engines.duckdb import DuckDBEngine
    from dvt.invocation import Invocation
    from dvt.staging import Staging


class FederationSession(contextlib.ExitStack):
    """Holds an engine cursor and every connection and stream a node opened, until it ends."""

    def __init__(self, dvt: Invocation, engine: DuckDBEngine, node: Any) -> None:
        super().__init__()
        self.dvt = dvt
        self.engine = engine
        self.node = node
        self.cursor = engine.session()
        self.callback(engine.release, self.cursor)
        self._connectors: dict[str, Connector] = {}
        self._handles: dict[str, Any] = {}
        self._streams: list[Any] = []
        #: A token for each registered stream with rows left (`end_streams`).
        self._open_streams: set[object] = set()
        self._ended = threading.Event()
        self.rows_read: dict[str, list[int]] = {}
        self.progress = Progress(node.unique_id)
        #: (name, type) of each input's columns, as the last plan read them.
        self.schemas: dict[RelationKey, Sequence[tuple[str, str]]] = {}
        #: Where the last plan found each relation written in the node's compiled SQL.
        self.spans: Spans = {}
        #: Whether the staged table becomes the node's table (renamed into place, not copied).
        self.stage_is_final = False
        self.staging = self._staging()
        if self.staging is not None:
            self.callback(self.staging.close)

    def __exit__(self, *exc_info: Any) -> bool | None:
        suppressed = super().__exit__(*exc_info)
        if exc_info[1] is not None:
            self.engine.recover(exc_info[1])
        return suppressed

    def _staging(self) -> Staging | None:
        """The node's folder in its bucket, when it stages through one (buckets.yml)."""
        name = self.dvt.resolve(self.node).bucket
        if not name:
            return None
        from dbt_common.invocation import get_invocation_id

        from dvt.staging import Staging

        bucket = self.dvt.buckets.require(name, used_by=self.node.unique_id)
        keep = bool(self.node.config.get("keep_staged"))
        return Staging(bucket, get_invocation_id(), self.node.unique_id, keep=keep)

    def connector(self, target: str) -> Connector:
        if target not in self._connectors:
            spec = self.dvt.targets[target]
            self._connectors[target] = connectors.for_target(spec)(spec, self)
        return self._connectors[target]

    def adapter_for(self, target: str) -> Any:
        """The invocation's dbt adapter of a target."""
        return self.dvt.pool.adapter_for(target)

    def borrow_connection(
        self, target: str, open_connection: Callable[[], Any], ready: Callable[[Any], None]
    ) -> contextlib.AbstractContextManager[Any]:
        """A connection of DVT's own to a target, kept by the invocation between loads."""
        return self.dvt.kept_connections.borrow(target, open_connection, ready)

    def on_interrupt(self, cancel: Callable[[], None]) -> None:
        """Register how to cancel work that an engine interrupt alone does not stop."""
        self.dvt.on_interrupt(cancel)

    def target_handle(self, target: str) -> Any:
        """This thread's dbt connection handle on a target, opened for the node if needed."""
        if target not in self._handles:
            adapter = self.dvt.pool.adapter_for(target)
            connection = adapter.connections.get_if_exists()
            if connection is None:
                self.enter_context(adapter.connection_named(f"dvt_read_{self.node.unique_id}"))
                connection = adapter.connections.get_thread_connection()
            if connection.state != ConnectionState.OPEN:  # else open() only logs that it is
                connection = adapter.connections.open(connection)
            self._handles[target] = connection.handle
        return self._handles[target]

    def engine_stream(self, sql: str) -> Any:
        """Run `sql` in the engine on a cursor of its own, as an Arrow record batch stream."""
        cursor = self.engine.session()
        self.callback(self.engine.release, cursor)
        return cursor.execute(sql).to_arrow_reader(BATCH_ROWS)

    def register_stream(self, name: str, reader: Any) -> None:
        """Make an input's stream readable in the engine as `name`, counting its rows."""
        counter = self.rows_read.setdefault(name, [0])
        token = object()  # a name may be registered again
        self._open_streams.add(token)
        stream = counted(
            reader, counter, self.progress, self._ended, lambda: self._open_streams.discard(token)
        )
        self._streams.append((reader, stream))  # alive until the engine has consumed them
        register_stream(self.cursor, name, stream)

    def end_streams(self) -> bool:
        """End every input stream of the node early, as if its input had no more rows: a load
        that failed then lets the engine query reading them finish, where interrupting it
        would leave the stream's read-ahead running (pyarrow's scanner, which calls back into
        Python, and aborts the process if it still does as Python exits). Whether one had rows
        left (the engine may be reading it)."""
        self._ended.set()
        return bool(self._open_streams)

    def plan(
        self, inputs: list[PlanInput], dialect: str, engine_dialect: str = "duckdb"
    ) -> FederationPlan:
        """Plan the node's compiled SQL (its reads are rendered in their sources' SQL where
        they are used: `FederatedNode.planned_imports`, `engine_reads`)."""
        tree = parse_model_sql(self.node.compiled_code, dialect, self.node.unique_id)
        self.spans = relation_spans(tree)
        referenced = set(self.spans)
        schemas = {i.key: self._columns(i) for i in inputs if i.key in referenced}
        self.schemas = schemas
        plan = plan_federation(
            tree,
            dialect,
            inputs,
            schemas,
            model=self.node.unique_id,
            evaluate_scalar=self._evaluate,
            engine_dialect=engine_dialect,
            readings={i.target: self._reading(i.target) for i in inputs},
        )
        if engine_dialect == "spark":
            from dvt.engines.spark import semantic_differences

            for note in semantic_differences(plan.engine_sql):
                events.warn("DVT003", f"{self.node.unique_id}: {note}; check the results.")
        for extraction in plan.extractions:
            columns = schemas.get(extraction.input.key, ())
            self._warn_type_loss(extraction, {name.lower(): kind for name, kind in columns})
        return plan

    def _reading(self, source: str) -> Reading:
        """How `source` reads a predicate pushed into it, held against the node's target."""
        connector = self.connector(source)
        target = self.connector(self.dvt.resolve(self.node).target)
        return Reading(
            folds_text=connector.folds_text,
            reads_instants=connector.reads_instants and target.reads_instants,
        )

    def _columns(self, plan_input: PlanInput) -> Sequence[tuple[str, str]]:
        """An input's columns, read once per invocation: a node's inputs are built before it
        runs, and stay as they are; only the node itself (`this`) is read every time."""
        read = self.connector(plan_input.target).columns
        if plan_input.unique_id == self.node.unique_id:
            return read(plan_input.key)
        return self.dvt.columns(plan_input.target, plan_input.key, read)

    def _warn_type_loss(self, extraction: Extraction, types: dict[str, str]) -> None:
        """DVT002 for each column read whose source type the engine cannot keep."""
        connector = self.connector(extraction.input.target)
        for column in extraction.columns:
            source_type = types.get(column.lower(), "")
            loss = connector.type_loss(source_type)
            if loss:
                events.warn(
                    "DVT002",
                    f"{self.node.unique_id}: column {column!r} ({source_type}) of "
                    f"{extraction.input.key.schema}.{extraction.input.key.name} on "
                    f"{extraction.input.target!r} is {loss}. "
                    "Cast it in the model to a type that keeps it (e.g. numeric(38, s), or text).",
                )

    def _evaluate(self, plan_input: PlanInput, select: exp.Select) -> tuple[bool, Any]:
        """A scalar subquery's value, read with LIMIT 2: (False, None) when it has more rows."""
        connector = self.connector(plan_input.target)
        sql = connector.subquery_sql(select, plan_input.key)
        rows = connector.rows(f"SELECT * FROM ({sql}) AS dvt_scalar LIMIT 2")
        if len(rows) > 1:
            return False, None
        return True, rows[0][0] if rows else None

    def expose_inputs(self, plan: FederationPlan) -> None:
        """Every input of the engine placement, read into the engine session under its engine
        name: as a temporary table (so the engine plans its joins with the real row counts, not
        blind over streams; it spills past its memory limit), or as the Parquet files of the
        node's bucket folder. A read the same as one before it (its SQL, on its database) is
        that one's table under its own name: read once."""
        tables: dict[tuple[str, str], str] = {}
        for extraction in plan.extractions:
            if self.staging is not None:
                self.stage_input(extraction)
                continue
            name = extraction.engine_name
            connector = self.connector(extraction.input.target)
            sql = connector.extraction_sql(extraction, extraction.input.key)
            read = tables.setdefault((extraction.input.target, sql), name)
            if read != name:
                self.cursor.execute(f"CREATE TEMP VIEW {name} AS SELECT * FROM {read}")
                continue
            connector.expose(name, sql)
            self.cursor.execute(f"CREATE TEMP TABLE {name}__rows AS SELECT * FROM {name}")
            self.cursor.unregister(name)
            self.cursor.execute(f"ALTER TABLE {name}__rows RENAME TO {name}")

    def stage_input(self, extraction: Extraction) -> None:
        """Stream an extraction into Parquet files in the node's bucket folder, and make the
        files readable in the engine session as `extraction.engine_name`."""
        assert self.staging is not None
        connector = self.connector(extraction.input.target)
        sql = connector.extraction_sql(extraction, extraction.input.key)
        name = extraction.engine_name
        self.staging.prepare(self.engine)
        counter = self.rows_read.setdefault(name, [0])
        direct = connector.engine_query(sql)
        if direct is not None:  # the engine's scanner writes the files itself
            counter[0] += self.staging.write(self.cursor, direct, name)
        else:
            stream = counted(connector.stream(sql), counter, self.progress)
            self.staging.write_stream(self.cursor, stream, name)
        self.cursor.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {self.staging.read_sql(name)}")


def counted(
    reader: Any,
    counter: list[int],
    progress: Progress | None = None,
    ended: threading.Event | None = None,
    on_end: Callable[[], None] | None = None,
) -> Any:
    """The same Arrow stream, counting rows as they pass (and telling `progress`); it ends
    early once `ended` is set, and calls `on_end` when it has ended."""
    import pyarrow as pa

    def batches() -> Iterator[Any]:
        try:
            read = iter(reader)
            while ended is None or not ended.is_set():
                batch = next(read, None)
                if batch is None:
                    return
                counter[0] += batch.num_rows
                if progress is not None:
                    progress.moved(batch.num_rows)
                yield batch
        finally:
            if on_end is not None:
                on_end()

    return pa.RecordBatchReader.from_batches(reader.schema, batches())


def relations_in(sql: str, dialect: str) -> set[RelationKey]:
    """Every table name the SQL mentions (CTE names included: they match no input)."""
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except sqlglot.errors.ParseError:
        return set()  # the planner reports the parse error, with the model named
    return {RelationKey.of(t) for t in tree.find_all(exp.Table)}


def model_dialect(dvt: Invocation, node: Any) -> str:
    """The SQLGlot dialect of a node's compiled SQL: its target's."""
    return connectors.for_target(dvt.targets[dvt.resolve(node).target]).dialect


def plan_inputs(dvt: Invocation, node: Any, manifest: Any) -> list[PlanInput]:
    """Every relation the node may read (its refs and sources, and itself for `this`)."""
    dialect = model_dialect(dvt, node)
    inputs = []
    for unique_id, target in dvt.resolve(node).inputs:
        dependency = manifest.sources.get(unique_id) or manifest.nodes[unique_id]
        inputs.append(
            PlanInput(RelationKey.parse(dependency.relation_name, dialect), target, unique_id)
        )
    if node.relation_name:
        key = RelationKey.parse(node.relation_name, dialect)
        inputs.append(PlanInput(key, dvt.resolve(node).target, node.unique_id))
    return inputs
