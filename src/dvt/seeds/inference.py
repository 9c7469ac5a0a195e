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

import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import agate
from dbt_common.clients.agate_helper import Integer, build_type_tester
from dbt_common.exceptions import DbtInternalError

from dvt.quoting import quote_literal
from dvt.seeds.reader import PYTHON_WHITESPACE, SeedCsv

if TYPE_CHECKING:
    import duckdb

#: Rows of the file shown by `dvt seed --show` (dbt shows a random sample of ten).
SAMPLE_ROWS = 10
#: Rows agate tests itself before one scan checks the rest.
_HEAD_ROWS = 200
_BATCH_ROWS = 8192

_DATE = "[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}"
_TIME = "([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
_NUMBER = r"-?([0-9]+(\.[0-9]*)?|\.[0-9]+)"
_WHOLE_NUMBER = "-?[0-9]+"
#: `_DATE` and `_DATE _TIME` as GLOB patterns, which DuckDB matches in half a regex's time.
_DATE_GLOB = "[1-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
_DATETIME_GLOBS = tuple(
    f"{_DATE_GLOB} {hour}:[0-5][0-9]:[0-5][0-9]" for hour in ("[01][0-9]", "2[0-3]")
)


_WHITESPACE = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in PYTHON_WHITESPACE) + "]"
_NULL_LIKE = quote_literal(f"{_WHITESPACE}*(?i:null)?{_WHITESPACE}*")


def null_like_sql(value: str) -> str:
    """agate's null test (`d.strip().lower() in ('', 'null')`) in DuckDB SQL."""
    return f"({value} IS NULL OR regexp_full_match({value}, {_NULL_LIKE}))"


#: The written shape of each class of value, as a DuckDB predicate.
_SHAPE_SQL: Mapping[str, Callable[[str], str]] = {
    "number": lambda v: f"regexp_full_match({v}, '{_NUMBER}')",
    "date": lambda v: f"{v} GLOB '{_DATE_GLOB}'",
    "datetime": lambda v: "(" + " OR ".join(f"{v} GLOB '{glob}'" for glob in _DATETIME_GLOBS) + ")",
    "iso_datetime": lambda v: rf"regexp_full_match({v}, '{_DATE}T{_TIME}(\.[0-9]{{1,6}})?')",
    # Most files write lower case, which skips lower()'s copy of the value.
    "boolean": lambda v: f"({v} IN ('true', 'false') OR lower({v}) IN ('true', 'false'))",
}
#: What a value of that shape must also be: a real date or time.
_VALID_AS = {"date": "DATE", "datetime": "TIMESTAMP", "iso_datetime": "TIMESTAMP"}


def _class_predicate(name: str) -> Callable[[str], str]:
    shape, valid_as = _SHAPE_SQL[name], _VALID_AS.get(name)
    if valid_as is None:
        return shape
    return lambda v: f"({shape(v)} AND try_cast({v} AS {valid_as}) IS NOT NULL)"


#: Each class of value as a DuckDB predicate; a value of a class passes exactly the agate
#: types `_passes` names. The classes are disjoint, and none holds a null-like value.
_CLASS_SQL: Mapping[str, Callable[[str], str]] = {
    name: _class_predicate(name) for name in _SHAPE_SQL
}


def column_shape_sql(column: SeedColumn, value: str, *, whole: bool = False) -> str:
    """Whether `value` is written as the class of the column's type is (a cast that succeeds
    then makes it a member of the class); `whole`: a number without a decimal point."""
    assert column.value_class is not None
    if whole and column.value_class == "number":
        return f"regexp_full_match({value}, '{_WHOLE_NUMBER}')"
    return _SHAPE_SQL[column.value_class](value)


def column_class_sql(column: SeedColumn, value: str) -> str:
    """Whether `value` is in the class of the column's type."""
    assert column.value_class is not None
    return _CLASS_SQL[column.value_class](value)


def class_sql(value: str) -> str:
    """The class of a CSV value: 'null', one of `_CLASS_SQL`, or 'other'."""
    whens = " ".join(f"WHEN {sql(value)} THEN '{name}'" for name, sql in _CLASS_SQL.items())
    return f"CASE WHEN {null_like_sql(value)} THEN 'null' {whens} ELSE 'other' END"


def fraction_digits_sql(value: str) -> str:
    """Decimal places of a plain number after agate's `normalize()` (trailing zeros dropped)."""
    return f"length(rtrim(split_part({value}, '.', 2), '0'))"


class CountedRows(Sequence[Any]):
    """`agate_table.rows` of a bulk-loaded seed: its length is the file's row count (dbt's
    materialization reports it), but the rows themselves stay in the file."""

    def __init__(self, sample: Any, table: SeedTable) -> None:
        self._sample = sample
        self._table = table

    def __len__(self) -> int:
        return self._table.row_count

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
    (those `--show` prints and that decide numeric precision), and the file's row count.

    The count may be a function: the bulk load answers dbt's request for it by loading the rows
    and reporting how many it loaded (`loaded`)."""

    def __init__(
        self,
        sample: Sequence[Sequence[str | None]],
        column_names: Sequence[str],
        column_types: Sequence[agate.DataType],
        row_count: int | Callable[[], int],
    ) -> None:
        super().__init__(sample, column_names, column_types)
        self._row_count = row_count

    @property
    def row_count(self) -> int:
        if callable(self._row_count):
            self._row_count = self._row_count()
        return self._row_count

    def loaded(self, row_count: int) -> None:
        """The load's row count, which is the file's."""
        self._row_count = row_count

    @property
    def rows(self) -> CountedRows:
        return CountedRows(self._rows, self)


@dataclass
class SeedColumn:
    """One column: the agate type dbt would infer and how its values read."""

    name: str
    #: agate's types still possible, in dbt's order (one Text for a `column_types` override).
    candidates: list[agate.DataType]
    #: PostgreSQL's CSV COPY reads the file's values of this column as dbt's parameters arrive.
    copyable: bool = False
    #: Values only agate could read -> agate's cast of them (typed columns only).
    others: dict[str, Any] = field(default_factory=dict)
    max_fraction: int = 0

    @property
    def agate_type(self) -> agate.DataType:
        return self.candidates[0]

    @property
    def is_text(self) -> bool:
        return isinstance(self.agate_type, agate.Text)

    @property
    def value_class(self) -> str | None:
        """The class whose values pass this column's type ("number" for Number, ...)."""
        if self.is_text:
            return None
        return next((name for name in _CLASS_SQL if _passes(name, self.agate_type)), None)

    def test(self, value: str | None) -> None:
        """Drop the candidate types agate's TypeTester drops for this value (agate reads an
        empty field as '', which dbt's Integer fails, where DuckDB reads NULL)."""
        if len(self.candidates) > 1:
            text = "" if value is None else value
            self.candidates = [t for t in self.candidates if t.test(text)]

    def keep_passing(self, classes: frozenset[str]) -> None:
        """Drop the candidate types some class of value present in the column fails."""
        for value_class in classes - {"other"}:
            self.candidates = [t for t in self.candidates if _passes(value_class, t)]

    def test_other(self, value: str) -> None:
        """Test one "other" value with agate, as agate's TypeTester does."""
        self.candidates = [t for t in self.candidates if t.test(value)]
        if not self.is_text:
            cast = self.agate_type.cast(value)
            self.others[value] = cast
            self.max_fraction = max(self.max_fraction, _fraction(cast))


_PASSES: Mapping[str, tuple[type, ...]] = {
    "null": (agate.Number, agate.Date, agate.DateTime, agate.Boolean, agate.Text),
    "number": (agate.Number,),
    "date": (agate.Date,),
    "boolean": (agate.Boolean,),
}


def _passes(value_class: str, agate_type: agate.DataType) -> bool:
    """Whether every value of `value_class` passes `agate_type`'s test (text passes all)."""
    if isinstance(agate_type, Integer):  # dbt's Integer rejects every string, even ''
        return False
    if isinstance(agate_type, agate.Text):
        return True
    if value_class in ("datetime", "iso_datetime"):
        # dbt tries a '%Y-%m-%d %H:%M:%S' DateTime first, then its ISO-only ISODateTime.
        iso = type(agate_type).__name__ == "ISODateTime"
        return isinstance(agate_type, agate.DateTime) and iso == (value_class == "iso_datetime")
    return isinstance(agate_type, _PASSES[value_class])


@dataclass
class SeedInference:
    """What dbt would infer for a seed, and what the loaders need to read it the same way."""

    csv: SeedCsv
    columns: list[SeedColumn]
    row_count: int
    table: SeedTable

    @property
    def copyable(self) -> bool:
        """PostgreSQL's COPY can read the file itself."""
        return all(column.copyable for column in self.columns)


@dataclass
class SeedHead:
    """The types agate gives the first rows: what the whole file most often has too."""

    csv: SeedCsv
    columns: list[SeedColumn]
    rows: list[tuple[str | None, ...]]

    @property
    def is_whole_file(self) -> bool:
        return len(self.rows) < _HEAD_ROWS

    def table(self, row_count: int | Callable[[], int]) -> SeedTable:
        """A table with the head's types, for a load that the full check confirms later. Its
        rows are the first rows plus, per numeric column, the head's row with most decimals."""
        rows = list(self.rows[:SAMPLE_ROWS])
        for i, column in enumerate(self.columns):
            if isinstance(column.agate_type, agate.Number):
                places = [_fraction(column.agate_type.cast(row[i])) for row in self.rows]
                if places and max(places) > 0:
                    rows.append(self.rows[places.index(max(places))])
        types = [c.agate_type for c in self.columns]
        return SeedTable(rows, self.csv.column_names, types, row_count)


def infer_head(
    seed: SeedCsv,
    text_columns: Mapping[str, Any],
    con: Callable[[], duckdb.DuckDBPyConnection],
) -> SeedHead:
    """agate tests the first rows, as dbt's TypeTester would test them. Python's CSV reader
    reads them; DuckDB (`con()`) only when they are not plain."""
    tester = build_type_tester(text_columns=text_columns)
    columns = [
        SeedColumn(name, [tester._force[name]])
        if name in tester._force
        else SeedColumn(name, list(tester._possible_types))
        for name in seed.column_names
    ]
    head = seed.read_head(_HEAD_ROWS)
    if head is None:
        sql = f"SELECT * FROM {seed.relation_sql} LIMIT {_HEAD_ROWS}"
        head = seed.query(con(), sql).fetchall()
    for row in head:
        for column, value in zip(columns, row, strict=True):
            column.test(value)
    return SeedHead(seed, columns, head)


def count_rows(con: duckdb.DuckDBPyConnection, head: SeedHead) -> int:
    """The file's row count, counted by DuckDB without reading the values."""
    seed = head.csv
    (count,) = seed.query(con, f"SELECT count(*) FROM {seed.relation_sql}").fetchone()
    return int(count)


def infer(
    con: duckdb.DuckDBPyConnection,
    seed: SeedCsv,
    text_columns: Mapping[str, Any],
    *,
    for_copy: bool = False,
) -> SeedInference:
    """dbt's types for the whole file (`infer_head`, then `verify`)."""
    return verify(con, infer_head(seed, text_columns, lambda: con), for_copy=for_copy)


def verify(
    con: duckdb.DuckDBPyConnection, head: SeedHead, *, for_copy: bool = False
) -> SeedInference:
    """One scan checks that every value after the head is in the class of the type that is
    left. Only a column where that check fails is classified value by value."""
    seed = head.csv
    columns = [dataclasses.replace(c, candidates=list(c.candidates)) for c in head.columns]
    checks = ["count(*)"]
    for i, column in enumerate(columns):
        checks.extend(_checks_sql(column, seed.column(i), for_copy))
    summary = iter(
        seed.query(con, f"SELECT {', '.join(checks)} FROM {seed.relation_sql}").fetchone()
    )
    row_count = int(next(summary))
    for i, column in enumerate(columns):
        form = next(summary)
        fraction = next(summary) if isinstance(column.agate_type, agate.Number) else None
        column.max_fraction = int(fraction or 0)
        if row_count == 0:
            continue
        # PostgreSQL's integer input does not read a whole number written "1.0".
        column.copyable = form == _PLAIN and not (column.max_fraction == 0 and fraction is not None)
        if not column.is_text and form == _OTHER:  # some value is in no class: ask agate
            _classify(con, seed, i, column)

    sample = _sample_rows(con, seed, columns, head.rows[:SAMPLE_ROWS])
    table = SeedTable(sample, seed.column_names, [c.agate_type for c in columns], row_count)
    return SeedInference(seed, columns, row_count, table)


#: How a column's values are written, worst value first: some value needs agate (other), some
#: null is written other than empty (loose: " ", "NULL"), or every value is plain.
_OTHER, _LOOSE, _PLAIN = 0, 1, 2


def _checks_sql(column: SeedColumn, value: str, for_copy: bool) -> list[str]:
    """Aggregates of the scan for one column: its form (and, for numbers, decimal places)."""
    empty = f"{value} IS NULL OR {value} = ''"
    if column.value_class is None:  # text: every value passes; COPY must read it unchanged
        if not for_copy:
            return [str(_LOOSE)]
        special = f"contains({value}, '\"') OR contains({value}, '\\') OR {null_like_sql(value)}"
        return [
            f"min(CASE WHEN {empty} THEN {_PLAIN} WHEN {special} THEN {_LOOSE} ELSE {_PLAIN} END)"
        ]
    in_class = column_class_sql(column, value)
    form = (
        f"min(CASE WHEN {in_class} OR {empty} THEN {_PLAIN} "
        f"WHEN {null_like_sql(value)} THEN {_LOOSE} ELSE {_OTHER} END)"
    )
    if not isinstance(column.agate_type, agate.Number):
        return [form]
    return [form, f"max(CASE WHEN contains({value}, '.') THEN {fraction_digits_sql(value)} END)"]


def _classify(
    con: duckdb.DuckDBPyConnection, seed: SeedCsv, index: int, column: SeedColumn
) -> None:
    """The exact, slower path for a column whose values are of mixed classes."""
    name = seed.column(index)
    (found, max_fraction) = seed.query(
        con,
        f"SELECT list(DISTINCT k), max({fraction_digits_sql(name)}) FILTER (k = 'number') "
        f"FROM (SELECT {name}, {class_sql(name)} AS k FROM {seed.relation_sql})",
    ).fetchone()
    column.keep_passing(frozenset(found))
    column.max_fraction = int(max_fraction or 0)
    if "other" in found and not column.is_text:
        for value in _other_values(con, seed, index):
            column.test_other(value)
            if column.is_text:
                column.others.clear()
                break


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
    con: duckdb.DuckDBPyConnection,
    seed: SeedCsv,
    columns: list[SeedColumn],
    first_rows: list[tuple[str | None, ...]],
) -> list[tuple[str | None, ...]]:
    """The first rows of the file, plus for each numeric column a row holding a value with
    its most decimal places, so dbt's `MaxPrecision` sees what it would see on the whole file."""
    rows = list(first_rows)
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
