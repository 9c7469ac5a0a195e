"""Rename relations in a node's compiled SQL, touching nothing else.

The target placement runs the model's own SQL on its target, so the SQL must stay exactly as
dbt compiled it: SQLGlot only finds where each relation name is written (its identifiers carry
their offsets, read once when the model is parsed for planning); the text between is never
regenerated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import sqlglot.expressions as exp

from dvt.exceptions import UnsupportedFederationError
from dvt.planning.models import RelationKey

#: Where each reference to a relation is written in the SQL: its (start, end) offsets, or None
#: for a reference SQLGlot could not place.
Spans = Mapping[RelationKey, Sequence[tuple[int, int] | None]]


def relation_spans(tree: exp.Expr) -> dict[RelationKey, list[tuple[int, int] | None]]:
    """Where every relation name is written in the SQL `tree` was just parsed from (before
    anything changes the tree)."""
    spans: dict[RelationKey, list[tuple[int, int] | None]] = {}
    for table in tree.find_all(exp.Table):
        parts = [p for p in table.parts if isinstance(p, exp.Identifier)]
        positions = [p.meta for p in parts if "start" in p.meta and "end" in p.meta]
        span = None
        if parts and len(positions) == len(parts):
            start = min(int(m["start"]) for m in positions)
            span = (start, max(int(m["end"]) for m in positions) + 1)
        spans.setdefault(RelationKey.of(table), []).append(span)
    return spans


def rename_relations(
    sql: str, spans: Spans, renames: Mapping[RelationKey, str], *, model: str
) -> str:
    """`sql` with every reference to a relation of `renames` replaced by its new name (`spans`:
    `relation_spans` of `sql`)."""
    edits: list[tuple[int, int, str]] = []
    for key, new_name in renames.items():
        for span in spans.get(key, ()):
            if span is None:
                raise UnsupportedFederationError(
                    f"Model {model!r}: cannot find where {key.schema}.{key.name} is written "
                    "in its compiled SQL."
                )
            edits.append((*span, new_name))
    for start, end, new_name in sorted(edits, reverse=True):
        sql = sql[:start] + new_name + sql[end:]
    return sql
