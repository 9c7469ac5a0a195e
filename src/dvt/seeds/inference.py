"""dbt's seed type inference, reproduced exactly without holding the file in memory.

dbt lets agate test every value of a column against an ordered list of types (dbt's
`build_type_tester`) and keeps the first type every value passes. DVT sorts each value into a
class with one DuckDB scan: a value that is null-like, a plain decimal number, an ISO date, a
`YYYY-MM-DD HH:MM:SS` datetime, an ISO `T` datetime or `true`/`false` passes exactly the types
its class lists. Every other value ("other") is tested in Python with agate's own type objects,
one distinct value at a time, and only while the column could still be something other than text.
So the types are agate's, and Python sees the values that need it, usually none.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import agate
from dbt_common.clients.agate_helper import Integer, build_type_tester
from dbt_common.exceptions import DbtInternalError

from dvt.seeds.reader import PYTHON_WHITESPACE, SeedCsv, sql_literal

if TYPE_CHECKING:
    import duckdb

#: Rows of the file shown by `dvt seed --show` (dbt shows a random sample of ten).
SAMPLE_ROWS = 10
_BATCH_ROWS = 8192

_DATE = "[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}"
_TIME = "([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
_NUMBER = r"-?([0-9]+(\.[0-9]*)?|\.[0-9]+)"


def null_like_sql(value: str) -> str:
    """agate's null test (`d.strip().lower() in ('', 'null')`) in DuckDB SQL."""
    ws = sql_literal(PYTHON_WHITESPACE)
    return f"({value} IS NULL OR lower(trim({value}, {ws})) IN ('', 'null'))"


def class_sql(value: str) -> str:
    """The class of a CSV value; each class passes exactly the agate types in `_PASSES`."""
    return (
        f"CASE WHEN {null_like_sql(value)} THEN 'null' "
        f"WHEN regexp_full_match({value}, '{_NUMBER}') THEN 'number' "
        f"WHEN regexp_full_match({value}, '{_DATE}') "
        f"AND try_cast({value} AS DATE) IS NOT NULL THEN 'date' "
        f"WHEN regexp_full_match({value}, '{_DATE} {_TIME}') "
        f"AND try_cast({value} AS TIMESTAMP) IS NOT NULL THEN 'datetime' "
        rf"WHEN regexp_full_match({value}, '{_DATE}T{_TIME}(\.[0-9]{{1,6}})?') "
        f"AND try_cast({value} AS TIMESTAMP) IS NOT NULL THEN 'iso_datetime' "
        f"WHEN lower({value}) IN ('true', 'false') THEN 'boolean' "
        "ELSE 'other' END"
    )


def fraction_digits_sql(value: str) -> str:
    """Decimal places of a plain number after agate's `normalize()` (trailing zeros dropped)."""
    return f"length(rtrim(split_part({value}, '.', 2), '0'))"


class CountedRows(Sequence[Any]):
    """`agate_table.rows` of a bulk-loaded seed: its length is the file's row count (dbt's
    materialization reports it), but the rows themselves stay in the file."""

    def __init__(self, sample: Any, row_count: int) -> None:
        self._sample = sample
        self.row_count = row_count

    def __len__(self) -> int:
        return self.row_count

    def values(self) -> list[Any]:
        """The sample rows (dbt's `store_result` keeps them as the result's data)."""
        return list(self._sample.values())

    def __getitem__(self, index: Any) -> Any:
        raise DbtInternalError(
            "DVT loads this seed in bulk and does not hold its rows in memory; a macro that "
            "reads agate_table.rows cannot run on it"
        )


class SeedTable(agate.Table):  # type: ignore[misc]
    """The agate table dbt's seed materialization receives: dbt's column types, a few real rows
    (those `--show` prints and that decide numeric precision), and the file's row count."""

    def __init__(
        self,
        sample: Sequence[Sequence[str | None]],
        column_names: Sequence[str],
        column_types: Sequence[agate.DataType],
        row_count: int,
    ) -> None:
        super().__init__(sample, column_names, column_types)
        self.row_count = row_count

    @property
    def rows(self) -> CountedRows:
        return CountedRows(self._rows, self.row_count)

    def sample(self) -> agate.Table:
        """The sample rows as a plain agate table."""
        return agate.Table(self._rows, self._column_names, self._column_types)


@dataclass
class SeedColumn:
    """One column: the agate type dbt would infer and the values only agate could read."""

    name: str
    candidates: list[agate.DataType]
    forced: bool = False
    classes: frozenset[str] = frozenset()
    #: Values classed "other" -> agate's cast of them; filled while the column is not text.
    others: dict[str, Any] = field(default_factory=dict)
    max_fraction: int = 0

    @property
    def agate_type(self) -> agate.DataType:
        return self.candidates[0]

    @property
    def is_text(self) -> bool:
        return isinstance(self.agate_type, agate.Text)

    def keep_passing(self, classes: frozenset[str]) -> None:
        """Drop the candidate types some class of value present in the column fails."""
        self.classes = classes
        for value_class in classes - {"other"}:
            self.candidates = [t for t in self.candidates if _passes(value_class, t)]

    def test_other(self, value: str) -> None:
        """Test one "other" value with agate, as agate's TypeTester does."""
        self.candidates = [t for t in self.candidates if t.test(value)]
        if not self.is_text:
            cast = self.agate_type.cast(value)
            self.others[value] = cast
            if isinstance(cast, Decimal) and cast.is_finite():
                self.max_fraction = max(self.max_fraction, -int(cast.normalize().as_tuple()[2]))


_PASSES: Mapping[str, tuple[type, ...]] = {
    "null": (agate.Number, agate.Date, agate.DateTime, agate.Boolean, agate.Text),
    "number": (agate.Number, agate.Text),
    "date": (agate.Date, agate.Text),
    "boolean": (agate.Boolean, agate.Text),
}


def _passes(value_class: str, agate_type: agate.DataType) -> bool:
    if isinstance(agate_type, Integer):  # dbt's Integer rejects every string, even ''
        return False
    if value_class in ("datetime", "iso_datetime"):
        # dbt tries a '%Y-%m-%d %H:%M:%S' DateTime first, then its ISO-only ISODateTime.
        iso = type(agate_type).__name__ == "ISODateTime"
        wanted = value_class == "iso_datetime"
        return isinstance(agate_type, agate.Text) or (
            isinstance(agate_type, agate.DateTime) and iso == wanted
        )
    return isinstance(agate_type, _PASSES[value_class])


@dataclass
class SeedInference:
    """What dbt would infer for a seed, and what the loaders need to read it the same way."""

    csv: SeedCsv
    columns: list[SeedColumn]
    row_count: int
    table: SeedTable


def infer(
    con: duckdb.DuckDBPyConnection, seed: SeedCsv, text_columns: Mapping[str, Any]
) -> SeedInference:
    """One scan classifies every value; "other" values are tested with agate."""
    tester = build_type_tester(text_columns=text_columns)
    columns = [
        SeedColumn(name, [tester._force[name]], forced=True)
        if name in tester._force
        else SeedColumn(name, list(tester._possible_types))
        for name in seed.column_names
    ]

    classes = ", ".join(f"{class_sql(seed.column(i))} AS k{i}" for i in range(len(columns)))
    aggregates = ["count(*)"]
    for i in range(len(columns)):
        aggregates.append(f"list(DISTINCT k{i})")
        aggregates.append(f"max({fraction_digits_sql(seed.column(i))}) FILTER (k{i} = 'number')")
    summary = seed.query(
        con,
        f"SELECT {', '.join(aggregates)} FROM (SELECT *, {classes} FROM {seed.relation_sql})",
    ).fetchone()
    row_count = int(summary[0])
    for i, column in enumerate(columns):
        found, max_fraction = summary[1 + 2 * i], summary[2 + 2 * i]
        if column.forced or row_count == 0:
            continue
        column.keep_passing(frozenset(found))
        column.max_fraction = int(max_fraction or 0)
        if "other" in column.classes and not column.is_text:
            for value in _other_values(con, seed, i):
                column.test_other(value)
                if column.is_text:
                    column.others.clear()
                    break

    sample = _sample_rows(con, seed, columns)
    table = SeedTable(sample, seed.column_names, [c.agate_type for c in columns], row_count)
    return SeedInference(seed, columns, row_count, table)


def _other_values(con: duckdb.DuckDBPyConnection, seed: SeedCsv, index: int) -> Iterator[str]:
    """The distinct values of one column that only agate can classify, streamed."""
    name = seed.column(index)
    reader = seed.query(
        con, f"SELECT {name} FROM {seed.relation_sql} WHERE ({class_sql(name)}) = 'other'"
    ).to_arrow_reader(_BATCH_ROWS)
    seen: set[str] = set()
    for batch in reader:
        for value in batch.column(0).to_pylist():
            if value not in seen:
                seen.add(value)
                yield value


def _sample_rows(
    con: duckdb.DuckDBPyConnection, seed: SeedCsv, columns: list[SeedColumn]
) -> list[tuple[str | None, ...]]:
    """The first rows of the file, plus for each numeric column a row holding a value with
    its most decimal places, so dbt's `MaxPrecision` sees what it would see on the whole file."""
    rows: list[tuple[str | None, ...]] = seed.query(
        con, f"SELECT * FROM {seed.relation_sql} LIMIT {SAMPLE_ROWS}"
    ).fetchall()
    for i, column in enumerate(columns):
        if not isinstance(column.agate_type, agate.Number) or column.max_fraction == 0:
            continue
        in_sample = [column.agate_type.cast(row[i]) for row in rows]
        if agate.utils.max_precision(in_sample) >= column.max_fraction:
            continue
        name = seed.column(i)
        plain = (
            f"({class_sql(name)}) = 'number' AND {fraction_digits_sql(name)} = ?",
            [column.max_fraction],
        )
        other = [v for v, cast in column.others.items() if _fraction(cast) == column.max_fraction]
        where, params = (f"{name} = ?", other[:1]) if other else plain
        rows.extend(
            seed.query(
                con, f"SELECT * FROM {seed.relation_sql} WHERE {where} LIMIT 1", params
            ).fetchall()
        )
    return rows


def _fraction(value: Any) -> int:
    if isinstance(value, Decimal) and value.is_finite():
        return -int(value.normalize().as_tuple()[2])
    return 0
