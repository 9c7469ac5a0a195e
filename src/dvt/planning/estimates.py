"""Row estimates for `dvt plan --estimate`, read from each database's own statistics.

Nothing is scanned where the database keeps statistics: PostgreSQL's `pg_class.reltuples`
(kept by ANALYZE and autovacuum), DuckDB's `estimated_size`, MySQL's `TABLE_ROWS`. SQLite keeps
none unless ANALYZE ran, so its tables are counted and the result says so. A relation that does
not exist yet, a view, or a target that cannot answer gives `unknown` with the reason: an
estimate never fails the plan.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from dvt import events
from dvt.quoting import quote_literal

if TYPE_CHECKING:
    from dvt.config.targets import TargetSpec
    from dvt.invocation import Invocation


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


def estimate_rows(
    dvt: Invocation, target: str, relations: Sequence[Relation]
) -> dict[str, RowEstimate]:
    """Estimates of `relations` (all on `target`) by unique_id, in one round trip."""
    spec = dvt.targets[target]
    events.debug(f"Reading row statistics of {len(relations)} relation(s) on target {target!r}")
    estimator = ESTIMATORS.get(spec.type)
    if estimator is None:
        return {r.unique_id: unknown(f"no statistics reader for {spec.type}") for r in relations}
    try:
        return estimator(dvt, spec, relations)
    except Exception as exc:
        note = dvt.redact(f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}")
        return {r.unique_id: unknown(note) for r in relations}


def _postgres(dvt: Invocation, spec: TargetSpec, relations: Sequence[Relation]) -> Estimates:
    wanted = ", ".join(f"({quote_literal(r.schema)}, {quote_literal(r.name)})" for r in relations)
    rows = _adapter_rows(
        dvt,
        spec.name,
        "select n.nspname, c.relname, c.relkind, c.reltuples from pg_class c "
        f"join pg_namespace n on n.oid = c.relnamespace where (n.nspname, c.relname) in ({wanted})",
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
            estimates[relation.unique_id] = unknown("not analyzed yet")
        else:
            estimates[relation.unique_id] = RowEstimate(round(tuples), "estimate")
    return estimates


def _duckdb(dvt: Invocation, spec: TargetSpec, relations: Sequence[Relation]) -> Estimates:
    rows = _adapter_rows(
        dvt,
        spec.name,
        "select database_name, schema_name, table_name, estimated_size from duckdb_tables() "
        "union all select database_name, schema_name, view_name, null from duckdb_views() "
        "where not internal",
    )
    found = {(d.lower(), s.lower(), n.lower()): size for d, s, n, size in rows}
    estimates = {}
    for relation in relations:
        key = ((relation.database or "").lower(), relation.schema.lower(), relation.name.lower())
        if key not in found:
            estimates[relation.unique_id] = MISSING
        elif found[key] is None:
            estimates[relation.unique_id] = VIEW
        else:
            estimates[relation.unique_id] = RowEstimate(int(found[key]), "estimate")
    return estimates


def _sqlite(dvt: Invocation, spec: TargetSpec, relations: Sequence[Relation]) -> Estimates:
    from dvt.connectors.sqlite import SQLiteConnector
    from dvt.connectors.standalone import attached_source

    if not os.path.isfile(SQLiteConnector.path(spec.options)):
        return {r.unique_id: unknown("the SQLite file does not exist") for r in relations}
    listed = (
        "select lower(table_name), 'table' from duckdb_tables() where database_name = 'src' union "
        "all select lower(view_name), 'view' from duckdb_views() where database_name = 'src'"
    )
    estimates = {}
    with attached_source(spec) as db:
        kinds = dict(db.execute(listed).fetchall())
        for relation in relations:
            kind = kinds.get(relation.name.lower())
            if kind is None:
                estimates[relation.unique_id] = MISSING
            elif kind == "view":
                estimates[relation.unique_id] = VIEW
            else:
                sql = f'select count(*) from src."{relation.name.replace(chr(34), chr(34) * 2)}"'
                events.debug(f"Row estimate on target {spec.name!r}: {sql}")
                (count,) = db.execute(sql).fetchone()
                note = "counted: SQLite keeps no statistics"
                estimates[relation.unique_id] = RowEstimate(int(count), "exact", note)
    return estimates


def _mysql(dvt: Invocation, spec: TargetSpec, relations: Sequence[Relation]) -> Estimates:
    from dvt.connectors.standalone import attached_source

    wanted = ", ".join(f"({quote_literal(r.schema)}, {quote_literal(r.name)})" for r in relations)
    sql = (
        "SELECT table_schema, table_name, table_type, table_rows FROM information_schema.tables "
        f"WHERE (table_schema, table_name) IN ({wanted})"
    )
    events.debug(f"Row estimates on target {spec.name!r}: {sql}")
    with attached_source(spec) as db:
        rows = db.execute(f"SELECT * FROM mysql_query('src', {quote_literal(sql)})").fetchall()
    found = {(s.lower(), n.lower()): (kind, count) for s, n, kind, count in rows}
    estimates = {}
    for relation in relations:
        kind, count = found.get((relation.schema.lower(), relation.name.lower()), (None, None))
        if kind is None:
            estimates[relation.unique_id] = MISSING
        elif kind == "VIEW":
            estimates[relation.unique_id] = VIEW
        elif count is None:
            estimates[relation.unique_id] = unknown("its storage engine keeps no row count")
        else:
            estimates[relation.unique_id] = RowEstimate(int(count), "estimate")
    return estimates


def _adapter_rows(dvt: Invocation, target: str, sql: str) -> list[tuple[Any, ...]]:
    """Rows of `sql` run through the target's own dbt adapter (which logs it at debug level),
    untouched by agate's type inference."""
    from dvt.dbt_seams.factory import active_adapter

    adapter = dvt.pool.adapter_for(target)
    connections: Any = adapter.connections
    with active_adapter(adapter), adapter.connection_named("dvt_estimate"):
        _, cursor = connections.add_query(sql)
        return [tuple(row) for row in cursor.fetchall()]


ESTIMATORS: dict[str, Callable[[Invocation, TargetSpec, Sequence[Relation]], Estimates]] = {
    "postgres": _postgres,
    "duckdb": _duckdb,
    "sqlite": _sqlite,
    "mysql": _mysql,
}
