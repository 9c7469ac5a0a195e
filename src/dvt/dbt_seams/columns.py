"""Columns of a relation on another target, asked of that target's adapter.

dbt asks the adapter of a node's target for the columns of the relations the node reads: unit
test fixtures type their rows with `adapter.get_columns_in_relation(<input>)`, and macros such
as dbt_utils' `star` list an input's columns. Under DVT an input may live on another target,
which this adapter cannot query (PostgreSQL: "cross-database references are not implemented").
In a multi-target invocation each adapter answers for such a relation with the columns the
other target's adapter reads, their types translated into this target's dialect by SQLGlot, so
fixtures are computed where the model runs. A source-only connection (SQLite, MySQL) has no dbt
adapter: its relations' columns come typed as an import of them would be here. Relations of the
adapter's own target, and those of no known target, are dbt's own call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

#: The adapter attribute that marks one already answering for other targets.
_MARK = "_dvt_other_targets"


def answer_for_other_targets(
    adapter: Any,
    target: str,
    home_of: Callable[[Any], str | None],
    adapter_for: Callable[[str], Any],
    dialect_of: Callable[[str], str],
    source_only_columns: Callable[[str, Any, str], Sequence[tuple[str, str]] | None],
) -> None:
    """Make `adapter` (of `target`) ask the right target's adapter for the columns of a
    relation `home_of` places on another target; `source_only_columns(home, relation,
    dialect)` answers for a home without a dbt adapter (None for one with an adapter)."""
    if getattr(adapter, _MARK, False):
        return
    own = adapter.get_columns_in_relation

    def get_columns_in_relation(relation: Any) -> list[Any]:
        home = home_of(relation)
        if home is None or home == target:
            return list(own(relation))
        typed = source_only_columns(home, relation, dialect_of(target))
        if typed is not None:
            return [adapter.Column.from_description(name, kind) for name, kind in typed]
        from dvt.dbt_seams.factory import active_adapter
        from dvt.planning.transpile import column_type

        other = adapter_for(home)
        theirs = other.Relation.create(
            database=relation.database, schema=relation.schema, identifier=relation.identifier
        )
        with active_adapter(other), other.connection_named(f"dvt_columns_{target}"):
            columns = other.get_columns_in_relation(theirs)
        source, dialect = dialect_of(home), dialect_of(target)
        return [
            adapter.Column.from_description(c.name, column_type(c.data_type, source, dialect))
            for c in columns
        ]

    adapter.get_columns_in_relation = get_columns_in_relation
    setattr(adapter, _MARK, True)
