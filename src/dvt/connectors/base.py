"""The connector interface, seen from a federated node's session on the DuckDB engine."""

from __future__ import annotations

import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import sqlglot.expressions as exp

from dvt.config.spec import TargetSpec
from dvt.planning.models import Estimates, Extraction, Relation, RelationKey, unknown

if TYPE_CHECKING:
    from dvt.planning.models import FederationPlan
    from dvt.staging import Staging


#: Held while a schema is created: `CREATE SCHEMA IF NOT EXISTS` from two connections at once
#: fails on PostgreSQL (and conflicts on DuckDB), and nodes run in threads of one process.
SCHEMA_LOCK = threading.Lock()
#: Rows per Arrow record batch streamed between databases: DuckDB's row-group size.
BATCH_ROWS = 122_880
#: DuckDB's widest DECIMAL; wider declared precisions are read as DOUBLE.
_MAX_DECIMAL_DIGITS = 38
AS_DOUBLE = "read as DOUBLE by the engine: digits beyond about 15 significant digits are lost"
AS_TEXT = "read as text by the engine: the column arrives in the target as text"
#: A time of day with a UTC offset, as DuckDB's and PostgreSQL's catalogs spell its type: Arrow
#: has no such type, and DuckDB streams it as TIME, dropping the offset.
ZONED_TIME = r"time(?:\(\d+\))? with time zone|timetz"
AS_TIME = "read as TIME by the engine: its UTC offset is lost"


def typed_empty(typed_sql: str) -> str:
    """A query of no rows with the columns and types a database gives `typed_sql`."""
    return f"SELECT * FROM ({typed_sql}\n) AS dvt_typed LIMIT 0"


class NodeContext(Protocol):
    """What a connector or an engine is handed by the node it works for: the node's engine
    cursor and connections, its streams and bucket folder (`execution.session` holds them)."""

    #: The node's cursor on the DuckDB engine that reads its inputs.
    cursor: Any
    #: That engine (`attach_once`).
    engine: Any
    staging: Staging | None
    rows_read: dict[str, list[int]]

    def connector(self, target: str) -> Connector: ...

    def target_handle(self, target: str) -> Any: ...

    def adapter_for(self, target: str) -> Any: ...

    def borrow_connection(
        self, target: str, open_connection: Callable[[], Any], ready: Callable[[Any], None]
    ) -> AbstractContextManager[Any]: ...

    def on_interrupt(self, cancel: Callable[[], None]) -> None: ...

    def engine_stream(self, sql: str) -> Any: ...

    def register_stream(self, name: str, reader: Any) -> None: ...

    def end_streams(self) -> bool: ...

    def expose_inputs(self, plan: FederationPlan) -> None: ...

    def stage_input(self, extraction: Extraction) -> None: ...


class Connector(ABC):
    """Reads (and, for writable targets, stages) one target's data for the engine."""

    #: SQLGlot dialect of the SQL this connector runs.
    dialect: ClassVar[str]
    #: Statements before one that only types a query (`create_typed`, a typed stage).
    typing_preamble: ClassVar[str] = ""
    #: Whether models and seeds may be written here.
    writable: ClassVar[bool] = True
    #: Source column types (full-match regex on the lower-case type) the engine cannot keep,
    #: and what happens to their values (DVT002). A pattern's groups are declared precisions:
    #: it matches only when each is above DuckDB's widest DECIMAL.
    lossy_types: ClassVar[Mapping[str, str]] = {}
    #: The DuckDB extension that reads this database (None: DVT reads it another way).
    extension: ClassVar[str | None] = None
    #: A source-only output's option it cannot do without: (the keys that can hold it, the
    #: first being the one to set; what it is). Checked when profiles.yml is loaded.
    required_option: ClassVar[tuple[tuple[str, ...], str] | None] = None
    #: A query that proves a standalone attach (`standalone.attached_source`) can read it.
    debug_sql: ClassVar[str] = "SELECT 1"
    #: Whether this database compares text its own way (case-insensitive or space-padding
    #: collations): no text predicate is pushed into its reads.
    folds_text: ClassVar[bool] = False
    #: Whether this database reads a date or time literal with a UTC offset (dbt's microbatch
    #: window, '2024-01-01 00:00:00+00:00') as PostgreSQL does in any session TimeZone: the
    #: instant against a timestamptz, the date and time with the offset dropped against a
    #: timestamp or a date. A comparison with one is pushed into a read only where the source
    #: and the node's target both do (`planning.semantics.Reading`).
    reads_instants: ClassVar[bool] = False
    #: Cells (rows x columns) up to which a relation loaded here is written through the
    #: database's log (`stage(logged=True)`), where that costs less than what an unlogged
    #: relation adds; None: `logged` changes nothing here.
    logged_cells: ClassVar[int | None] = None
    #: Seconds per million rows, for choosing a federated node's placement: reading rows out
    #: of this database, writing them into it, and joining or aggregating them here.
    read_cost: ClassVar[float] = 0.5
    write_cost: ClassVar[float] = 1.0
    compute_cost: ClassVar[float] = 0.5
    #: How many times its compute cost a query costs here when it reads a CTE more than once.
    reused_cte_factor: ClassVar[float] = 1.0
    #: Seconds per million (outer row, inner row) pairs of a correlated subquery that this
    #: database runs once per outer row; 0 where it turns them into joins.
    correlated_subquery_cost: ClassVar[float] = 0.0

    def __init__(self, spec: TargetSpec, session: NodeContext) -> None:
        self.spec = spec
        self.session = session

    @classmethod
    def attach_statements(cls, options: Mapping[str, Any], alias: str) -> list[str]:
        """The engine SQL that attaches this database as `alias` (secrets inside: never logged)."""
        raise NotImplementedError(f"{cls.__name__} is not attached to the engine")

    @classmethod
    def estimates(
        cls,
        spec: TargetSpec,
        relations: Sequence[Relation],
        adapter_rows: Callable[[str], list[tuple[Any, ...]]],
    ) -> Estimates:
        """Row estimates of `relations` from this database's statistics, by unique_id, for
        `dvt plan --estimate`; `adapter_rows` runs SQL through the output's dbt adapter."""
        return {r.unique_id: unknown(f"no statistics reader for {spec.type}") for r in relations}

    # -- naming ---------------------------------------------------------------------------

    def table(self, key: RelationKey) -> exp.Table:
        """The relation as this connector's SQL names it."""
        return exp.table_(key.name, db=key.schema, catalog=key.catalog or None, quoted=True)

    def extraction_sql(self, extraction: Extraction, key: RelationKey) -> str:
        """The extraction as this database runs it."""
        return extraction.render(self.table(key), self.dialect)

    def subquery_sql(self, select: exp.Select, key: RelationKey) -> str:
        """A one-input scalar subquery, rewritten to run on this database."""
        query = select.copy()
        for table in query.find_all(exp.Table):
            alias = table.alias_or_name
            renamed = self.table(key)
            renamed.set("alias", exp.TableAlias(this=exp.to_identifier(alias)))
            table.replace(renamed)
        return query.sql(dialect=self.dialect)

    @classmethod
    def import_type(cls, source_type: str, target_dialect: str) -> str | None:
        """The type a column of `source_type` here is given in an import on a target of
        `target_dialect`, where the engine's own mapping loses part of it (a length); None:
        the engine's mapping is exact."""
        return None

    @classmethod
    def attached_columns(cls, db: Any, key: RelationKey) -> list[tuple[str, str, str]]:
        """(name, engine type, own type) of each column of a relation of this database attached
        as `src` to the DuckDB connection `db` (`standalone.attached_source`): the engine's type
        is the one an import of the column starts from. For source-only connections, whose
        relations no dbt adapter describes."""
        raise NotImplementedError(f"{cls.__name__}'s relations are described by its dbt adapter")

    @classmethod
    def type_loss(cls, source_type: str) -> str | None:
        """What the engine does to values of `source_type`, when it cannot keep them exactly."""
        lowered = source_type.lower()
        for pattern, loss in cls.lossy_types.items():
            found = re.fullmatch(pattern, lowered)
            if found and all(int(p) > _MAX_DECIMAL_DIGITS for p in found.groups()):
                return loss
        return None

    # -- data -----------------------------------------------------------------------------

    @abstractmethod
    def columns(self, key: RelationKey) -> Sequence[tuple[str, str]]:
        """(name, type) of each column of a relation, in order."""

    @abstractmethod
    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        """Run a (small) query on this database and return all its rows."""

    def scalar(self, sql: str) -> Any:
        """Run a one-value query on this database."""
        found = self.rows(sql)
        return found[0][0] if found else None

    def orders_text_bytewise(self, relations: Sequence[RelationKey]) -> bool:
        """Whether a query here over `relations` (and over imports) orders and compares text
        by its bytes, as the engines do; False where this database cannot tell."""
        return False

    def estimated_rows(self, key: RelationKey) -> int | None:
        """The relation's row count from the database's statistics (None when it keeps none)."""
        return None

    @abstractmethod
    def stream(self, sql: str) -> Any:
        """Run an extraction (SQL in this connector's dialect) as an Arrow record batch stream."""

    def engine_query(self, sql: str) -> str | None:
        """Engine SQL that runs an extraction itself, when the engine reads this database
        directly (its scanners); None when rows must be streamed in from outside."""
        return None

    def duckdb_cursor(self, sql: str) -> Any | None:
        """A cursor on this database itself, where it is a DuckDB database and `sql` (its
        extraction) has only types the engine would read from its stream as they are: an import
        then runs there (the same library as the engine's) and is written straight into the
        target, with no stream through the engine. None otherwise."""
        return None

    def expose(self, name: str, sql: str) -> None:
        """Make the rows of `sql` (this database's) readable in the engine session as `name`."""
        self.session.register_stream(name, self.stream(sql))

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
        """Write the engine's result into a new `relation` on this target; return the row count.

        With `typed_sql` (this target's SQL over relations that exist here), the relation gets
        the columns and types this target gives that query, and the engine's rows are cast to
        them. `logged`: written through the database's log (durable), for a relation renamed
        into place, or one so small that logging its rows costs less than what an unlogged
        table adds (`logged_cells`).
        `column_types`: columns declared with a type of their source the engine does not keep
        (`varchar(60)`), which this target gives them before the rows arrive. `on`: the DuckDB
        cursor that runs `engine_sql` instead of the engine's (`duckdb_cursor`).
        """
        raise NotImplementedError(f"{type(self).__name__} cannot be written to")

    def execute(self, sql: str) -> None:
        """Run a statement in this target's own dialect."""
        raise NotImplementedError(f"{type(self).__name__} cannot be written to")

    def inexact_columns(self, typed_sql: str, relation: RelationKey) -> list[str]:
        """Result columns of `typed_sql` (this database's SQL) whose values the engine cannot
        write here exactly, each with why; `relation` is a free name for probing."""
        return []

    def create_typed(self, relation: RelationKey, typed_sql: str) -> str:
        """`relation`, replaced by an empty table with the columns and types this database gives
        `typed_sql` (its SQL over relations that exist here); returns the table's name."""
        table = self.table(relation).sql(dialect=self.dialect)
        self.execute(f"DROP TABLE IF EXISTS {table}")
        self.execute(f"{self.typing_preamble}CREATE TABLE {table} AS {typed_empty(typed_sql)}")
        return table

    def analyze(self, relation: RelationKey) -> None:  # noqa: B027 - most databases need none
        """Refresh the statistics of a relation just loaded, so the target plans with them."""

    def warm_up(self, loads: bool) -> None:  # noqa: B027 - most databases open nothing ahead
        """Open what this connector's first read (and, with `loads`, its first load) would
        otherwise open while a node waits for it: a connection, the engine's ATTACH."""

    def warm_up_imports(self, source: Connector) -> bool:
        """Open what this target's first import from `source` would otherwise open while a node
        waits for it (PostgreSQL: its COPY encoder, loaded into a DuckDB source); whether there
        was anything to open."""
        return False

    def stage_arrow(self, reader: Any, relation: RelationKey, typed_sql: str | None = None) -> int:
        """Write an Arrow stream into `relation` on this target; return the row count."""
        raise NotImplementedError(f"{type(self).__name__} cannot be written to")

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
        """Load a stream staged as Parquet files into `relation`; return the row count. By
        default the engine reads the files and writes them with this target's bulk path."""
        return self.stage(
            staging.read_sql(name),
            relation,
            typed_sql=typed_sql,
            logged=logged,
            column_types=column_types,
        )

    def split_key(
        self, key: RelationKey, columns: Sequence[str]
    ) -> tuple[str, int, int, int] | None:
        """(integer key column, its min, its max, estimated rows) to split a parallel read of
        `key` on, when the relation has one among `columns`; None otherwise."""
        return None

    def drop_stage(self, relation: RelationKey) -> None:
        raise NotImplementedError(f"{type(self).__name__} cannot be written to")

    # -- scratch relations of other invocations (`dvt.scratch`) ------------------------

    def hold_scratch(self, tag: str) -> Any:
        """Prove, until the returned object is closed, that the invocation tagged `tag` is
        alive on this target (None: this database needs no proof)."""
        return None

    def sweep_scratch(self, tag: str, proof: Any) -> list[tuple[str, str]]:
        """Drop the scratch relations on this target of invocations other than `tag` that
        can be told to be dead; return (schema, name) of each. `proof`: `hold_scratch`'s."""
        return []
