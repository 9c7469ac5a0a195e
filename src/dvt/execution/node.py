"""One federated node's pipeline (DESIGN.md section 6, "Steps"):

plan -> choose the placement -> import (on the target) or compute (in the engine) -> the SQL
dbt's own runner finishes on the target -> clean up.

- **On the target**: each remote input is read with only the columns and safe predicates the
  model needs and bulk-loaded into an import relation on the node's target; the model's compiled
  SQL then runs there unchanged but for those relation names, so the target's semantics apply.
- **In the engine**: the target first types the result (the model's SQL over empty imports,
  `LIMIT 0`), so the stage has exactly the target's columns and types; the engine computes the
  rows into it; dbt's materialization reads the stage.

Every relation made here is named per invocation and node and dropped when the node ends.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dvt import events
from dvt.exceptions import InexactResultError, UnsupportedFederationError
from dvt.execution.imports import CELLS_PER_READER, ImportKey
from dvt.planning import placement
from dvt.planning.models import Extraction, FederationPlan, PlanInput, RelationKey
from dvt.planning.rewrite import rename_relations
from dvt.scratch import scratch_name

#: Rows an import moves within a few seconds: one this small logs no progress on the way.
QUIET_ROWS = 1_000_000

if TYPE_CHECKING:
    from dvt.connectors.base import Connector
    from dvt.engines.base import Engine
    from dvt.execution.session import FederationSession
    from dvt.resolution.models import NodeResolution


class FederatedNode:
    """The work of one federated node between dbt's compile and its materialization."""

    def __init__(
        self,
        session: FederationSession,
        resolution: NodeResolution,
        engine_dialect: str,
        start_engine: Callable[[], Engine] | None,
        *,
        schema: str,
        final: bool,
    ) -> None:
        """`start_engine` starts (once per invocation) the engine of `engine_dialect`, only if
        the node is placed there; None to plan only (`dvt plan`)."""
        self.session = session
        self.node = session.node
        self.resolution = resolution
        self.engine_dialect = engine_dialect
        self._start_engine = start_engine
        self.engine: Engine | None = None
        self.schema = schema
        #: Whether an engine stage becomes the node's table as it is (renamed into place).
        self.final = final
        self.target: Connector = session.connector(resolution.target)
        self.plan: FederationPlan | None = None
        self.choice: placement.Choice | None = None
        self.stage: RelationKey | None = None
        self.rows_staged: int | None = None
        self.imports: list[tuple[Extraction, RelationKey]] = []
        #: Imports of this node that other nodes of the invocation read too.
        self.shared: set[RelationKey] = set()
        self._made: list[RelationKey] = []
        self._estimates: dict[RelationKey, int | None] = {}
        #: The node's own relation (`this`, or a source naming it), whose rows change as it runs.
        self._own: set[RelationKey] = set()

    @property
    def dialect(self) -> str:
        return self.target.dialect

    def relation(self, role: str) -> RelationKey:
        """A relation of this node on its target, remembered to be dropped at the end. The
        invocation claims the target first (`Scratch.claim`)."""
        self.session.dvt.scratch.claim(self.target)
        key = RelationKey(
            self.node.database or "", self.schema, scratch_name(self.node.alias, role)
        )
        self._made.append(key)
        return key

    def decide(self, inputs: list[PlanInput]) -> tuple[FederationPlan, placement.Choice]:
        """Plan the node and choose its placement; nothing is read or written yet."""
        self._own = {i.key for i in inputs if i.unique_id == self.node.unique_id}
        plan = self.session.plan(inputs, self.dialect, self.engine_dialect)
        if plan.engine_refusal and plan.bytewise_refusal is None:
            # Only text ordering keeps it off the engine: the same there if the target orders
            # text by its bytes.
            target = self.resolution.target
            here = [e.input.key for e in plan.extractions if e.input.target == target]
            if self.target.orders_text_bytewise(list(dict.fromkeys(here))):
                plan = dataclasses.replace(plan, engine_refusal=None)
        for sql in plan.not_pushed:
            events.note("DVT005", f"{self.node.unique_id}: predicate kept in the query: {sql}")
        choice = self._choose(plan)
        events.debug(f"{self.node.unique_id}: placement {choice.placement} ({choice.reason})")
        self.plan, self.choice = plan, choice
        return plan, choice

    def prepare(self, inputs: list[PlanInput], *, stage: bool = True) -> str:
        """Plan the node and do what its placement needs first; return the SQL dbt runs on the
        target. `stage=False` (`dvt show` in the engine): nothing is computed yet. With the
        engine forced, it starts first: an engine that cannot start fails before any work."""
        if self.resolution.placement == "engine" and self._start_engine is not None:
            self.engine = self._start_engine()
        plan, choice = self.decide(inputs)
        if choice.placement == "target":
            return self._import_inputs()
        if not stage:
            return ""
        return self._compute_in_engine(plan)

    def planned_imports(self, *, empty: bool = False) -> tuple[Extraction, ...]:
        """The imports the target placement reads, rendered in each source's SQL (`empty`:
        none of their rows, for the target to type a query over them)."""
        assert self.plan is not None
        planned = []
        for extraction in placement.imports(self.plan, self.resolution.target):
            if empty:
                extraction = dataclasses.replace(extraction, limit=0)
            source = self.session.connector(extraction.input.target)
            sql = source.extraction_sql(extraction, extraction.input.key)
            planned.append(dataclasses.replace(extraction, sql=sql))
        return tuple(planned)

    def engine_reads(self) -> tuple[Extraction, ...]:
        """The engine placement's reads, each rendered in its source's SQL."""
        assert self.plan is not None
        return tuple(
            dataclasses.replace(
                e, sql=self.session.connector(e.input.target).extraction_sql(e, e.input.key)
            )
            for e in self.plan.extractions
        )

    def _choose(self, plan: FederationPlan) -> placement.Choice:
        requested = self.resolution.placement or "auto"
        rows: dict[str, int | None] = {}
        costs: dict[str, placement.Costs] = {}
        for name in {self.resolution.target, *(e.input.target for e in plan.extractions)}:
            connector = self.session.connector(name)
            costs[name] = placement.Costs(
                connector.read_cost,
                connector.write_cost,
                connector.compute_cost,
                connector.reused_cte_factor,
                connector.correlated_subquery_cost,
            )
        if requested == "auto" and plan.engine_refusal is None:
            for extraction in plan.extractions:
                rows[extraction.input.unique_id] = self._estimate(extraction)
        return placement.choose(
            requested, plan, self.resolution.target, rows, costs, model=self.node.unique_id
        )

    # -- on the target ---------------------------------------------------------------------

    def _import_inputs(self, *, empty: bool = False) -> str:
        """Import every remote input into the target; the node's SQL over the imports."""
        renames: dict[RelationKey, str] = {}
        for index, extraction in enumerate(self.planned_imports(empty=empty)):
            shared = self._shared_import(extraction)
            if shared is not None:
                extraction, relation = shared
                self.shared.add(relation)
            else:
                relation = self.relation(f"{'ty' if empty else 'in'}{index}")
                self._load_import(extraction, relation, through_bucket=not empty)
            if not empty:
                self.imports.append((extraction, relation))
            renames[extraction.input.key] = self.target.table(relation).sql(dialect=self.dialect)
        return rename_relations(
            self.node.compiled_code, self.session.spans, renames, model=self.node.unique_id
        )

    def shared_read(self, extraction: Extraction) -> Extraction | None:
        """The input's read with every column the selected nodes name, imported once for every
        node of the invocation that reads it with the same filter, when other nodes still to
        run read the input too and it is small enough (`imports.CELLS_PER_READER`, or a whole
        input read for at most twice the node's own import); None to import only what this
        node reads (also where it reads a column no node's SQL names). The empty import an
        engine placement types its result over is shared by every such node (zero rows)."""
        registry = self.session.dvt.shared_imports
        if registry is None:
            return None
        names = (name for name, _ in self.session.schemas.get(extraction.input.key, ()))
        columns = registry.columns(names)
        empty = extraction.limit == 0  # typing an engine placement's result: shared too
        if (extraction.limit is not None and not empty) or not columns:
            return None
        if not set(extraction.columns) <= set(columns):
            return None
        key = ImportKey(self.resolution.target, extraction.input.unique_id)
        source = self.session.connector(extraction.input.target)
        wide = dataclasses.replace(extraction, columns=columns)
        wide = dataclasses.replace(wide, sql=source.extraction_sql(wide, wide.input.key))
        if not empty and not registry.loaded(key, wide.sql):
            readers = registry.readers(key)
            rows = self._estimate(extraction) if readers > 1 else None
            # A read of the whole input costs the node its rows anyway: sharing it (its named
            # columns) is worth up to twice that, for the other readers of the whole input.
            own = 0 if extraction.predicates else 2 * len(extraction.columns) * (rows or 0)
            if rows is None or rows * len(columns) > max(readers * CELLS_PER_READER, own):
                return None
        return wide

    def _shared_import(self, extraction: Extraction) -> tuple[Extraction, RelationKey] | None:
        """The shared import of the read (`shared_read`), loaded by its first reader."""
        wide = self.shared_read(extraction)
        registry = self.session.dvt.shared_imports
        if wide is None or registry is None:
            return None
        key = ImportKey(self.resolution.target, extraction.input.unique_id)

        def load() -> RelationKey:
            tag = hashlib.sha1(f"{key.input}\n{wide.sql}".encode()).hexdigest()[:4]
            name = scratch_name(wide.input.key.name, f"sh{tag}")
            relation = RelationKey(self.node.database or "", self.schema, name)
            self._load_import(wide, relation, through_bucket=wide.limit != 0)
            return relation

        return wide, registry.claim(key, wide.sql, load)

    def _estimate(self, extraction: Extraction) -> int | None:
        """An input's row estimate: read once per invocation, but the node's own (`this`,
        `_own`, known once `decide` has run)."""
        plan_input = extraction.input
        key = plan_input.key
        if key not in self._estimates:
            connector = self.session.connector(plan_input.target)
            if key in self._own:
                self._estimates[key] = _estimate(connector, key)
            else:
                read = lambda k: _estimate(connector, k)  # noqa: E731
                self._estimates[key] = self.session.dvt.estimated_rows(plan_input.target, key, read)
        return self._estimates[key]

    def _load_import(
        self, extraction: Extraction, relation: RelationKey, *, through_bucket: bool
    ) -> None:
        session = self.session
        session.dvt.stop_if_interrupted(self.node.unique_id)
        name = extraction.engine_name
        source = session.connector(extraction.input.target)
        started = time.perf_counter()
        declared = dict(session.schemas.get(extraction.input.key, ()))
        column_types = {
            column: kind
            for column in extraction.columns
            if (kind := source.import_type(declared.get(column, ""), self.dialect))
        }
        logged = self._logged(extraction)
        if through_bucket and session.staging is not None:  # as Parquet files in the bucket
            session.stage_input(extraction)
            self.target.load_files(
                session.staging, name, relation, logged=logged, column_types=column_types
            )
        elif (on := self._local_source(extraction)) is not None:
            try:
                with session.dvt.interruptible(on.interrupt):  # Ctrl-C stops its query too
                    rows = self.target.stage(
                        extraction.sql, relation, logged=logged, column_types=column_types, on=on
                    )
            finally:
                on.close()
            session.rows_read.setdefault(name, [0])[0] += rows
        else:
            source.expose(name, extraction.sql)
            self.target.stage(
                f"SELECT * FROM {name}", relation, logged=logged, column_types=column_types
            )
        if extraction.limit != 0:
            self.target.analyze(relation)
        rows = session.rows_read.get(name, [0])[0]
        events.debug(
            f"{self.node.unique_id}: imported {extraction.input.unique_id} from "
            f"{extraction.input.target!r} into {relation.name}: {rows} rows in "
            f"{time.perf_counter() - started:.3f}s"
        )

    def _logged(self, extraction: Extraction) -> bool:
        """Whether an import is small enough to be written through its target's log
        (`Connector.logged_cells`), by its input's estimate, or its pushed LIMIT."""
        cells = self.target.logged_cells
        if cells is None:
            return False
        rows = 0 if extraction.limit == 0 else self._estimate(extraction)
        if rows is not None and extraction.limit is not None:
            rows = min(rows, extraction.limit)
        return rows is not None and rows * len(extraction.columns) <= cells

    def _local_source(self, extraction: Extraction) -> Any | None:
        """The source's own DuckDB cursor, to import from without a stream through the engine,
        when the source is a DuckDB database and the import is small enough to need no
        progress lines (`QUIET_ROWS`)."""
        if extraction.limit != 0:
            rows = self._estimate(extraction)
            if rows is None or rows > QUIET_ROWS:
                return None
        return self.session.connector(extraction.input.target).duckdb_cursor(extraction.sql)

    # -- in the engine ---------------------------------------------------------------------

    def _compute_in_engine(self, plan: FederationPlan) -> str:
        """The target types the result over empty imports; the engine fills the stage. A
        result column the engine cannot write exactly sends the node back to its target (or,
        with the engine forced, fails it with DVT104)."""
        made = len(self._made)
        typed_sql = self._import_inputs(empty=True)
        empties, self._made = self._made[made:], self._made[:made]
        assert self._start_engine is not None, "planned only"
        try:
            # DuckDB's own writes check their result columns as they stage (InexactResultError),
            # but one column's DECIMAL scale cannot give each value its own.
            if (
                self.engine_dialect != "duckdb"
                or self.session.staging is not None
                or plan.per_value_scales
            ):
                inexact = self.target.inexact_columns(typed_sql, self.relation("probe"))
                if inexact:
                    return self._back_to_target("; ".join(inexact))
            self.engine = self.engine or self._start_engine()
            self.stage = self.relation("stage")
            try:
                self.rows_staged = self.engine.materialize(
                    self.session,
                    plan,
                    self.target,
                    self.stage,
                    typed_sql=typed_sql,
                    logged=self.final and not self.node.config.get("unlogged"),
                )
            except InexactResultError as exc:
                self.stage = None
                return self._back_to_target(exc.reason)
        finally:
            for relation in empties:
                self._drop(relation)
        table = self.target.table(self.stage).sql(dialect=self.dialect)
        return f"select * from {table}"

    def _back_to_target(self, why: str) -> str:
        reason = f"the engine cannot write its result exactly: {why}"
        if self.resolution.placement == "engine":
            raise UnsupportedFederationError(
                f"Model {self.node.unique_id!r} is placed in the engine (placement='engine'), "
                f"but {reason}. Use placement 'target' or 'auto'."
            )
        events.debug(f"{self.node.unique_id}: placement target ({reason})")
        assert self.choice is not None
        self.choice = dataclasses.replace(self.choice, placement="target", reason=reason)
        return self._import_inputs()

    # -- the end ---------------------------------------------------------------------------

    def clean_up(self) -> None:
        """Drop every relation this node made (and the shared imports it was the last reader
        of), without letting a failed drop hide the node's own result: a target that is down
        rolled back what it had not committed."""
        for relation in reversed(self._made):
            self._drop(relation)
        self._made.clear()
        registry = self.session.dvt.shared_imports
        if registry is not None:  # the shared imports whose last reader this node was
            for relation in registry.release(self.resolution):
                self._drop(relation)

    def _drop(self, relation: RelationKey) -> None:
        try:
            self.target.drop_stage(relation)
        except Exception as exc:
            redacted = self.session.dvt.redact(str(exc))
            events.debug(f"[DVT104] could not drop {relation.name}: {redacted}")

    def summary(self) -> dict[str, Any]:
        """What the placement did, for `adapter_response["dvt"]`."""
        assert self.plan is not None and self.choice is not None
        rows_read = self.session.rows_read
        reads = (
            self.imports
            if self.choice.placement == "target"
            else [(e, None) for e in self.engine_reads()]  # type: ignore[misc]
        )
        return {
            **self.choice.to_dict(),
            "extractions": [
                {
                    "input": e.input.unique_id,
                    "target": e.input.target,
                    "sql": e.sql,
                    "rows": rows_read.get(e.engine_name, [0])[0],
                    **({"import": relation.name} if relation is not None else {}),
                    **({"shared": True} if relation in self.shared else {}),
                }
                for e, relation in reads
            ],
            "engine_sql": self.plan.engine_sql if self.choice.placement == "engine" else None,
        }


def _estimate(connector: Connector, key: RelationKey) -> int | None:
    """An input's row estimate; None when its database cannot tell (never fails the node)."""
    try:
        return connector.estimated_rows(key)
    except Exception as exc:
        events.debug(f"No row estimate for {key}: {type(exc).__name__}")
        return None
