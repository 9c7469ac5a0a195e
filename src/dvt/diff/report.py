"""`dvt diff`'s report: lines of text, or one JSON document."""

from __future__ import annotations

import json
from typing import Any

from dvt.diff.compare import Difference, Side


def as_dict(a: Side, b: Side, diff: Difference) -> dict[str, Any]:
    return {
        "identical": diff.identical,
        "a": {**a.to_dict(), "rows": diff.rows_a},
        "b": {**b.to_dict(), "rows": diff.rows_b},
        "key": diff.key,
        "columns": diff.columns,
        "columns_only_in_a": diff.columns_only_in_a,
        "columns_only_in_b": diff.columns_only_in_b,
        "compared_as_text": {k: list(v) for k, v in diff.compared_as_text.items()},
        "rows_only_in_a": diff.only_in_a,
        "rows_only_in_b": diff.only_in_b,
        "rows_changed": diff.changed,
        "changed_by_column": diff.changed_by_column,
        "duplicate_keys": diff.duplicate_keys,
        "samples": {
            "only_in_a": diff.samples_only_in_a,
            "only_in_b": diff.samples_only_in_b,
            "changed": diff.samples_changed,
        },
        "buckets_differing": diff.buckets_differing,
        "rows_fetched": diff.rows_fetched,
    }


def as_json(a: Side, b: Side, diff: Difference) -> str:
    return json.dumps(as_dict(a, b, diff), default=str)


def _values(row: dict[str, Any]) -> str:
    return ", ".join(f"{k}={_shown(v)}" for k, v in row.items())


def _shown(value: Any) -> str:
    return "NULL" if value is None else repr(value) if isinstance(value, str) else str(value)


def as_text(a: Side, b: Side, diff: Difference) -> list[str]:
    lines = [
        f"A: {a.label} on {a.target} ({a.relation}): {diff.rows_a:,} rows",
        f"B: {b.label} on {b.target} ({b.relation}): {diff.rows_b:,} rows",
    ]
    key = f" (key: {', '.join(diff.key)})" if diff.key else " (no key: rows compared as multisets)"
    lines.append(f"columns compared: {', '.join(diff.columns)}{key}")
    if diff.columns_only_in_a:
        lines.append(f"columns only in A: {', '.join(diff.columns_only_in_a)}")
    if diff.columns_only_in_b:
        lines.append(f"columns only in B: {', '.join(diff.columns_only_in_b)}")
    for name, (type_a, type_b) in diff.compared_as_text.items():
        lines.append(f"column {name} compared as text: {type_a} in A, {type_b} in B")
    lines.append(f"rows only in A: {diff.only_in_a:,}")
    lines.append(f"rows only in B: {diff.only_in_b:,}")
    if diff.key:
        by_column = ", ".join(f"{k}: {v:,}" for k, v in sorted(diff.changed_by_column.items()))
        lines.append(f"rows changed: {diff.changed:,}" + (f" ({by_column})" if by_column else ""))
        if diff.duplicate_keys:
            lines.append(f"keys found more than once: {diff.duplicate_keys:,}")
    for title, rows in (
        ("only in A", diff.samples_only_in_a),
        ("only in B", diff.samples_only_in_b),
    ):
        for row in rows:
            lines.append(f"  {title}: {_values(row)}")
    for change in diff.samples_changed:
        columns = "; ".join(
            f"{name}: {_shown(x)} -> {_shown(y)}" for name, (x, y) in change["columns"].items()
        )
        lines.append(f"  changed: {_values(change['key'])}: {columns}")
    verdict = "identical" if diff.identical else "different"
    lines.append(
        f"{verdict} ({diff.buckets_differing:,} differing buckets, "
        f"{diff.rows_fetched:,} rows fetched)"
    )
    return lines
