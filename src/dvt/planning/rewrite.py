"""Rename relations in a node's compiled SQL, touching nothing else.

The target placement runs the model's own SQL on its target, so the SQL must stay exactly as
dbt compiled it: SQLGlot only finds where each relation name is written (its identifiers carry
their offsets); the text between is never regenerated.
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlglot.expressions as exp

from dvt.exceptions import UnsupportedFederationError
from dvt.planning.models import RelationKey
from dvt.planning.planner import parse_model_sql


def rename_relations(
    sql: str, dialect: str, renames: Mapping[RelationKey, str], *, model: str
) -> str:
    """`sql` with every reference to a relation of `renames` replaced by its new name."""
    if not renames:
        return sql
    tree = parse_model_sql(sql, dialect, model)
    spans: list[tuple[int, int, str]] = []
    for table in tree.find_all(exp.Table):
        new_name = renames.get(RelationKey.of(table))
        if new_name is None:
            continue
        parts = [p for p in table.parts if isinstance(p, exp.Identifier)]
        positions = [p.meta for p in parts if "start" in p.meta and "end" in p.meta]
        if len(positions) != len(parts) or not parts:
            raise UnsupportedFederationError(
                f"Model {model!r}: cannot find where {table.sql(dialect=dialect)} is written "
                "in its compiled SQL."
            )
        start = min(int(m["start"]) for m in positions)
        end = max(int(m["end"]) for m in positions) + 1
        spans.append((start, end, new_name))
    for start, end, new_name in sorted(spans, reverse=True):
        sql = sql[:start] + new_name + sql[end:]
    return sql
