"""The federation plan: what to read from each input, and what the engine computes."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Literal

import sqlglot.errors
import sqlglot.expressions as exp

from dvt.exceptions import UnsupportedFederationError


@dataclass(frozen=True, eq=False)
class RelationKey:
    """A relation as the compiled SQL names it: the names keep their case (the source database
    is asked for exactly them); keys compare case-insensitively, to find the SQL's tables."""

    catalog: str
    schema: str
    name: str

    def _folded(self) -> tuple[str, str, str]:
        return (self.catalog.lower(), self.schema.lower(), self.name.lower())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RelationKey) and self._folded() == other._folded()

    def __hash__(self) -> int:
        return hash(self._folded())

    @classmethod
    def parse(cls, relation_name: str, dialect: str) -> RelationKey:
        """The key of a relation name; DVT104 when it is not `[database.][schema.]name`. dbt
        writes each name between quotes without doubling a quote inside it, so an identifier
        holding one (`we"ird`) makes a name no parser reads, or reads as another relation."""
        try:  # not `exp.to_table`: it splits an unparsable name on dots instead
            table = exp.maybe_parse(relation_name, into=exp.Table, dialect=dialect)
        except sqlglot.errors.SqlglotError:
            table = None
        if not isinstance(table, exp.Table) or len(table.parts) > 3:
            quoted = '"' in relation_name
            quote = (
                " One of its names holds a double quote, which dbt does not escape."
                if quoted
                else ""
            )
            raise UnsupportedFederationError(
                f"Relation {relation_name} cannot be federated: it is not a "
                f"[database.][schema.]name DVT can read.{quote} Rename the relation, or read it "
                "through a view whose name has no quote."
            )
        return cls.of(table)

    @classmethod
    def of(cls, table: exp.Table) -> RelationKey:
        return cls(table.catalog, table.db, table.name)

    def __str__(self) -> str:
        return ".".join(p for p in (self.catalog, self.schema, self.name) if p)


@dataclass(frozen=True)
class PlanInput:
    """One relation the model reads: a source, a ref, or the model itself (`this`)."""

    key: RelationKey
    target: str
    unique_id: str


@dataclass(frozen=True)
class Extraction:
    """What the engine reads from one input occurrence: columns, pushed-down conjuncts, and a
    LIMIT when nothing between it and the input changes rows."""

    engine_name: str
    input: PlanInput
    columns: tuple[str, ...]
    predicates: tuple[exp.Expr, ...] = field(default=(), compare=False)
    limit: int | None = None
    sql: str = ""  # rendered by the input's connector, in its own dialect

    def render(self, table: exp.Table, dialect: str) -> str:
        """`SELECT <columns> FROM <table> WHERE <conjuncts> LIMIT <n>` in `dialect`."""
        # With no column used (count(*)), read one constant per row. Built from fresh nodes (the
        # predicates copied once), so neither building nor rendering copies the tree again.
        select_list = [exp.column(c, quoted=True) for c in self.columns]
        query = exp.Select(expressions=select_list or [exp.Literal.number(1)])
        query.set("from_", exp.From(this=table))
        if self.predicates:
            where = exp.and_(*[p.copy() for p in self.predicates], copy=False)
            query.set("where", exp.Where(this=where))
        if self.limit is not None:
            query.set("limit", exp.Limit(expression=exp.Literal.number(self.limit)))
        return query.sql(dialect=dialect, copy=False)


@dataclass(frozen=True)
class Source:
    """A table, CTE or derived table one side of a correlated subquery reads: the inputs it
    reads (by unique_id), and whether it aggregates them (its rows are then few)."""

    inputs: tuple[str, ...]
    aggregated: bool = False


@dataclass(frozen=True)
class CorrelatedSubquery:
    """A scalar subquery that reads its outer query's columns: PostgreSQL runs it once per
    outer row, scanning what it reads each time."""

    outer: tuple[Source, ...]  # where the columns it reads of its outer query come from
    inner: tuple[Source, ...]  # what it scans each time


@dataclass(frozen=True)
class FederationPlan:
    extractions: tuple[Extraction, ...]
    #: The query over the extractions' engine names, rendered on demand (`engine_sql`).
    engine_tree: exp.Expr = field(compare=False, repr=False)
    engine_dialect: str = "duckdb"
    not_pushed: tuple[str, ...] = ()  # predicates kept in the query only (DVT005, debug)
    #: Why the query may not mean the same in the engine (None: proven the same there).
    engine_refusal: str | None = None
    #: The same, where the target orders text by its bytes (`semantics.BYTEWISE_TEXT`): None
    #: when only the target's collation keeps the query off the engine.
    bytewise_refusal: str | None = None
    #: Whether the outermost query groups or aggregates (its result is small).
    aggregates: bool = False
    #: Whether the query reads one of its CTEs more than once (`Costs.reused_cte_factor`).
    reused_ctes: bool = False
    #: The subqueries a row-at-a-time target runs once per outer row (`Costs.correlated`).
    correlated: tuple[CorrelatedSubquery, ...] = ()
    #: Whether a numeric result column's values may have scales of their own (a CASE of two
    #: scales, GREATEST, a column the planner cannot trace): PostgreSQL's unconstrained numeric
    #: then keeps each value's own scale, where the engine's DECIMAL has one for the column.
    per_value_scales: bool = False
    #: Whether the engine SQL computes numeric quotients exactly (`numeric`): its query may
    #: then fail where the target answers (more than 38 digits), and the node goes back there.
    exact_numerics: bool = False
    #: DuckDB macros the engine SQL calls (CREATE MACRO statements), created before it runs.
    engine_macros: tuple[str, ...] = ()
    #: Result columns (by position) the engine SQL gives as the text of PostgreSQL's numeric
    #: value (a quotient, with its scale): the target reads them back as numbers.
    text_numerics: tuple[int, ...] = ()
    #: Reads of scalar subqueries the planner evaluated first: the engine SQL no longer reads
    #: them, the model's SQL on its target still does.
    folded: tuple[Extraction, ...] = ()

    @functools.cached_property
    def engine_sql(self) -> str:
        """The query the engine runs, in its dialect (only an engine placement renders it)."""
        return self.engine_tree.sql(dialect=self.engine_dialect, comments=False)

    def remote(self, target: str) -> tuple[Extraction, ...]:
        """What the model's own SQL reads of inputs that live on another target than `target`
        (folded subqueries included)."""
        return tuple(e for e in (*self.extractions, *self.folded) if e.input.target != target)


@dataclass(frozen=True)
class Relation:
    """One input relation, as the manifest names it on the target it lives on."""

    unique_id: str
    database: str | None
    schema: str
    name: str


@dataclass(frozen=True)
class RowEstimate:
    """Rows of one relation: from statistics (`estimate`), counted (`exact`), or `unknown`."""

    rows: int | None
    kind: Literal["estimate", "exact", "unknown"]
    note: str = ""

    def __str__(self) -> str:
        note = f", {self.note}" if self.note else ""
        if self.rows is None:
            return f"unknown ({self.note})" if self.note else "unknown"
        approximate = "~" if self.kind == "estimate" else ""
        return f"{approximate}{self.rows:,} rows ({self.kind}{note})"

    def to_dict(self) -> dict[str, object]:
        fields: dict[str, object] = {"rows": self.rows, "kind": self.kind}
        if self.note:
            fields["note"] = self.note
        return fields


def unknown(note: str) -> RowEstimate:
    return RowEstimate(None, "unknown", note)


Estimates = dict[str, RowEstimate]

MISSING = unknown("does not exist yet")
VIEW = unknown("a view keeps no statistics")
