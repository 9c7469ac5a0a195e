"""Columns of a relation on another target, asked of that target's adapter.

dbt asks the adapter of a node's target for the columns of the relations the node reads: unit
test fixtures type their rows with `adapter.get_columns_in_relation(<input>)`, and macros such
as dbt_utils' `star` list an input's columns. Under DVT an input may live on another target,
which this adapter cannot query (PostgreSQL: "cross-database references are not implemented").
In a multi-target invocation each adapter answers for such a relation with the columns the
other target's adapter reads, their types translated into this target's dialect by SQLGlot, so
fixtures are computed where the model runs. Relations of the adapter's own target, and those
of no known target, are dbt's own call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: The adapter attribute that marks one already answering for other targets.
_MARK = "_dvt_other_targets"


def answer_for_other_targets(
    adapter: Any,
    target: str,
    home_of: Callable[[Any], str | None],
    adapter_for: Callable[[str], Any],
    dialect_of: Callable[[str], str],
) -> None:
    """Make `adapter` (of `target`) ask the right target's adapter for the columns of a
    relation `home_of` places on another target."""
    if getattr(adapter, _MARK, False):
        return
    own = adapter.get_columns_in_relation

    def get_columns_in_relation(relation: Any) -> list[Any]:
        home = home_of(relation)
        if home is None or home == target:
            return list(own(relation))
        from dvt.dbt_seams.factory import active_adapter

        other = adapter_for(home)
        theirs = other.Relation.create(
            database=relation.database, schema=relation.schema, identifier=relation.identifier
        )
        with active_adapter(other), other.connection_named(f"dvt_columns_{target}"):
            columns = other.get_columns_in_relation(theirs)
        source, dialect = dialect_of(home), dialect_of(target)
        return [
            adapter.Column.from_description(c.name, _translated(c.data_type, source, dialect))
            for c in columns
        ]

    adapter.get_columns_in_relation = get_columns_in_relation
    setattr(adapter, _MARK, True)


def _translated(data_type: str, source: str, dialect: str) -> str:
    """A column type of `source`'s dialect written in `dialect`'s (as is when SQLGlot cannot)."""
    import sqlglot.errors
    from sqlglot import exp

    try:
        return exp.DataType.build(data_type, dialect=source).sql(dialect=dialect)
    except (sqlglot.errors.ParseError, ValueError):
        return data_type
