"""The comparison: bucket hashes on each side, narrowed where they differ, rows fetched only for
the buckets that still differ, and compared in Python."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from dvt.diff.hashing.base import (
    MAX_DIGITS,
    Compared,
    Hasher,
    Kind,
    Shape,
    common_kind,
    declared_scale,
)
from dvt.exceptions import DiffError

#: Hex digits of the first bucket level (16^3 = 4,096 buckets: grouping into more costs
#: PostgreSQL more than it saves), and of each narrowing step.
FIRST_LEVEL, NARROWING = 3, 2
#: A differing bucket holding more rows than this on either side is narrowed, not fetched.
LEAF_ROWS = 10_000
#: Rows (the larger side's) fetched per query.
FETCH_ROWS = 50_000

Row = tuple[Any, ...]
Submit = Callable[[str], "Future[list[Row]]"]


@dataclass(frozen=True)
class Side:
    """One relation to compare: what to call it, its relation on its database, its hasher, and
    how to run a query there (in the side's own thread and connection)."""

    label: str
    target: str
    database: str | None
    schema: str
    name: str
    hasher: Hasher
    submit: Submit

    @property
    def relation(self) -> str:
        return self.hasher.relation(self.database, self.schema, self.name)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.label, "target": self.target, "relation": self.relation}


@dataclass
class Difference:
    """What differs between A and B, with up to `samples` examples of each kind."""

    rows_a: int = 0
    rows_b: int = 0
    key: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    columns_only_in_a: list[str] = field(default_factory=list)
    columns_only_in_b: list[str] = field(default_factory=list)
    #: Columns compared as text because their kinds differ: name -> (type in A, type in B).
    compared_as_text: dict[str, tuple[str, str]] = field(default_factory=dict)
    only_in_a: int = 0
    only_in_b: int = 0
    changed: int = 0
    changed_by_column: dict[str, int] = field(default_factory=dict)
    duplicate_keys: int = 0
    samples_only_in_a: list[dict[str, Any]] = field(default_factory=list)
    samples_only_in_b: list[dict[str, Any]] = field(default_factory=list)
    samples_changed: list[dict[str, Any]] = field(default_factory=list)
    buckets_differing: int = 0
    rows_fetched: int = 0
    queries: int = 0

    @property
    def identical(self) -> bool:
        return not (
            self.only_in_a
            or self.only_in_b
            or self.changed
            or self.columns_only_in_a
            or self.columns_only_in_b
        )


@dataclass(frozen=True)
class _Plan:
    """Both sides' shapes and the names the report uses (A's spelling)."""

    a: Shape
    b: Shape
    names: list[str]
    key_count: int
    #: Positions (in `names`) of float columns compared within a tolerance.
    tolerant: dict[int, float]


def both(a: Side, sql_a: str, b: Side, sql_b: str) -> tuple[list[Row], list[Row]]:
    """Run one query on each side at once."""
    found_a, found_b = a.submit(sql_a), b.submit(sql_b)
    return found_a.result(), found_b.result()


def compare(
    a: Side,
    b: Side,
    key: Sequence[str] = (),
    *,
    float_tolerance: float | None = None,
    samples: int = 10,
) -> Difference:
    """Compare A and B: counts, rows only in each (as multisets without a key), and per-column
    differences of rows matched by `key`."""
    result = Difference(key=list(key))
    columns_a, columns_b = both(
        a,
        a.hasher.columns_sql(a.database, a.schema, a.name),
        b,
        b.hasher.columns_sql(b.database, b.schema, b.name),
    )
    plan = _plan(a, columns_a, b, columns_b, key, float_tolerance, result)
    counts_a, counts_b, leaves = _differing_buckets(a, b, plan, result)
    result.rows_a, result.rows_b = counts_a, counts_b
    result.buckets_differing = len(leaves)
    for digits, chunk in _chunks(leaves):
        rows_a, rows_b = both(
            a,
            a.hasher.rows_sql(plan.a, digits, chunk),
            b,
            b.hasher.rows_sql(plan.b, digits, chunk),
        )
        result.queries += 1
        result.rows_fetched += len(rows_a) + len(rows_b)
        _compare_rows(plan, rows_a, rows_b, result, samples)
    return result


def _columns(side: Side, found: list[Row]) -> dict[str, tuple[str, str]]:
    """{lower-case name: (name, type)}; DiffError when the relation does not exist."""
    if not found:
        raise DiffError(
            f"{side.label}: relation {side.relation} does not exist on target {side.target!r} "
            "(or has no columns). Build it first, or name another relation."
        )
    return {str(name).lower(): (str(name), str(type_)) for name, type_ in found}


def _plan(
    a: Side,
    found_a: list[Row],
    b: Side,
    found_b: list[Row],
    key: Sequence[str],
    tolerance: float | None,
    result: Difference,
) -> _Plan:
    columns_a, columns_b = _columns(a, found_a), _columns(b, found_b)
    for name in key:
        for side, columns in ((a, columns_a), (b, columns_b)):
            if name.lower() not in columns:
                listed = ", ".join(n for n, _ in columns.values())
                raise DiffError(
                    f"--key column {name!r} is not a column of {side.label} on target "
                    f"{side.target!r}. Its columns: {listed}."
                )
    keyed = [k.lower() for k in key]
    shared = [c for c in columns_a if c in columns_b]
    result.columns_only_in_a = [columns_a[c][0] for c in columns_a if c not in columns_b]
    result.columns_only_in_b = [columns_b[c][0] for c in columns_b if c not in columns_a]
    ordered = keyed + [c for c in shared if c not in keyed]
    compared_a: list[Compared] = []
    compared_b: list[Compared] = []
    tolerant: dict[int, float] = {}
    for position, lowered in enumerate(ordered):
        (name_a, type_a), (name_b, type_b) = columns_a[lowered], columns_b[lowered]
        kind_a, kind_b = a.hasher.kind_of(type_a), b.hasher.kind_of(type_b)
        common: Kind = common_kind(kind_a, kind_b)
        if common == "text" and kind_a != kind_b:
            result.compared_as_text[name_a] = (type_a, type_b)
        within = tolerance if common == "float" and lowered not in keyed else None
        if within is not None:
            tolerant[position] = within
        scale = declared_scale(type_a)
        plain = (
            kind_a == kind_b == "decimal" and scale is not None and scale == declared_scale(type_b)
        )
        compared_a.append(Compared(name_a, kind_a, common, within, plain))
        compared_b.append(Compared(name_b, kind_b, common, within, plain))
    result.columns = [columns_a[c][0] for c in ordered]
    count = len(keyed)
    return _Plan(
        a=Shape(a.relation, compared_a[:count], compared_a[count:]),
        b=Shape(b.relation, compared_b[:count], compared_b[count:]),
        names=result.columns,
        key_count=count,
        tolerant=tolerant,
    )


def _differing_buckets(
    a: Side, b: Side, plan: _Plan, result: Difference
) -> tuple[int, int, list[tuple[int, int, int]]]:
    """Row counts of both sides, and the buckets (digits, bucket, larger side's rows) that
    differ, narrowed until each holds at most LEAF_ROWS rows or has MAX_DIGITS digits."""
    digits, within, within_digits = FIRST_LEVEL, None, 0
    leaves: list[tuple[int, int, int]] = []
    totals: tuple[int, int] | None = None
    while True:
        found_a, found_b = both(
            a,
            a.hasher.buckets_sql(plan.a, digits, within, within_digits),
            b,
            b.hasher.buckets_sql(plan.b, digits, within, within_digits),
        )
        result.queries += 1
        sums_a = {int(r[0]): tuple(int(v) for v in r[1:]) for r in found_a}
        sums_b = {int(r[0]): tuple(int(v) for v in r[1:]) for r in found_b}
        if totals is None:
            totals = (sum(s[0] for s in sums_a.values()), sum(s[0] for s in sums_b.values()))
        narrow = []
        for bucket in sorted(sums_a.keys() | sums_b.keys()):
            if sums_a.get(bucket) == sums_b.get(bucket):
                continue
            rows = max(sums_a.get(bucket, (0,))[0], sums_b.get(bucket, (0,))[0])
            if rows > LEAF_ROWS and digits + NARROWING <= MAX_DIGITS:
                narrow.append(bucket)
            else:
                leaves.append((digits, bucket, rows))
        if not narrow:
            return totals[0], totals[1], leaves
        digits, within, within_digits = digits + NARROWING, narrow, digits


def _chunks(leaves: list[tuple[int, int, int]]) -> Iterator[tuple[int, list[int]]]:
    """(digits, buckets) of one level, about FETCH_ROWS rows per chunk."""
    by_digits: dict[int, list[tuple[int, int]]] = {}
    for digits, bucket, rows in leaves:
        by_digits.setdefault(digits, []).append((bucket, rows))
    for digits, group in by_digits.items():
        chunk: list[int] = []
        rows_in_chunk = 0
        for bucket, rows in group:
            if chunk and rows_in_chunk + rows > FETCH_ROWS:
                yield digits, chunk
                chunk, rows_in_chunk = [], 0
            chunk.append(bucket)
            rows_in_chunk += rows
        if chunk:
            yield digits, chunk


def _compare_rows(
    plan: _Plan, rows_a: list[Row], rows_b: list[Row], result: Difference, samples: int
) -> None:
    """Count and sample what differs among the fetched rows of a set of whole buckets."""
    width = len(plan.names)
    if plan.key_count == 0:
        values_a = Counter(tuple(r[2 : 2 + width]) for r in rows_a)
        values_b = Counter(tuple(r[2 : 2 + width]) for r in rows_b)
        for only, count_into, sample_into in (
            (values_a - values_b, "only_in_a", result.samples_only_in_a),
            (values_b - values_a, "only_in_b", result.samples_only_in_b),
        ):
            setattr(result, count_into, getattr(result, count_into) + sum(only.values()))
            for values, times in only.items():
                for _ in range(times):
                    if len(sample_into) < samples:
                        sample_into.append(dict(zip(plan.names, values, strict=True)))
        return
    keyed_a = _by_key(plan, rows_a)
    keyed_b = _by_key(plan, rows_b)
    for key in sorted(keyed_a.keys() | keyed_b.keys(), key=repr):
        found_a, found_b = keyed_a.get(key, []), keyed_b.get(key, [])
        if len(found_a) > 1 or len(found_b) > 1:
            result.duplicate_keys += 1
        if len(found_a) == 1 and len(found_b) == 1:
            _compare_matched(plan, key, found_a[0], found_b[0], result, samples)
            continue
        rest_a = Counter(v for v, _ in found_a) - Counter(v for v, _ in found_b)
        rest_b = Counter(v for v, _ in found_b) - Counter(v for v, _ in found_a)
        for rest, count_into, sample_into in (
            (rest_a, "only_in_a", result.samples_only_in_a),
            (rest_b, "only_in_b", result.samples_only_in_b),
        ):
            setattr(result, count_into, getattr(result, count_into) + sum(rest.values()))
            for values in rest.elements():
                if len(sample_into) < samples:
                    sample_into.append(dict(zip(plan.names, values, strict=True)))


def _by_key(plan: _Plan, rows: list[Row]) -> dict[Row, list[tuple[Row, dict[int, Any]]]]:
    """Rows by key: (canonical values, {position: exact float}) of each."""
    width = len(plan.names)
    exact_at = sorted(plan.tolerant)
    found: dict[Row, list[tuple[Row, dict[int, Any]]]] = {}
    for row in rows:
        values = tuple(row[2 : 2 + width])
        exact = dict(zip(exact_at, row[2 + width :], strict=True))
        found.setdefault(values[: plan.key_count], []).append((values, exact))
    return found


def _compare_matched(
    plan: _Plan,
    key: Row,
    row_a: tuple[Row, dict[int, Any]],
    row_b: tuple[Row, dict[int, Any]],
    result: Difference,
    samples: int,
) -> None:
    (values_a, exact_a), (values_b, exact_b) = row_a, row_b
    differing: dict[str, list[Any]] = {}
    for position in range(plan.key_count, len(plan.names)):
        if position in plan.tolerant:
            seen_a, seen_b = exact_a[position], exact_b[position]
            if _within(seen_a, seen_b, plan.tolerant[position]):
                continue
        else:
            seen_a, seen_b = values_a[position], values_b[position]
            if seen_a == seen_b:
                continue
        differing[plan.names[position]] = [seen_a, seen_b]
    if not differing:
        return
    result.changed += 1
    for name in differing:
        result.changed_by_column[name] = result.changed_by_column.get(name, 0) + 1
    if len(result.samples_changed) < samples:
        named_key = dict(zip(plan.names[: plan.key_count], key, strict=True))
        result.samples_changed.append({"key": named_key, "columns": differing})


def _within(a: str | None, b: str | None, tolerance: float) -> bool:
    """Two floats' canonical texts within `tolerance` of each other (NULLs and NaNs alike)."""
    if a is None or b is None:
        return a is b
    x, y = float(a), float(b)
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    return x == y or abs(x - y) <= tolerance
