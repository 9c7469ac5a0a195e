"""What every database computes for `dvt diff`, built from a few SQL primitives per dialect.

Each column is turned into a canonical text both databases produce identically for equal
values (a DuckDB DECIMAL(18,2) and a PostgreSQL numeric(18,2) both give `12.5`), the columns
are joined into one row text, and the row text is hashed with md5, which every database here
has. Two 28-bit pieces of the row hash are summed per bucket as integers: sums are exact on
every database (no overflow below 2^35 rows) and independent of row order.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

import sqlglot.expressions as exp

from dvt.quoting import quote_literal

Kind = Literal[
    "int", "decimal", "float", "bool", "date", "timestamp", "timestamptz", "time", "text"
]

#: Kinds whose canonical text is never empty and never holds the separator: joined bare.
_BARE_KINDS = frozenset({"int", "decimal", "float", "bool", "date", "timestamp", "timestamptz"})
_NUMERIC_ORDER: tuple[Kind, ...] = ("int", "decimal", "float")
SEPARATOR = "|"
#: Hex digits of the row hash summed per bucket (two pieces of 7 hex digits: 28 bits each).
HASH_PIECES = ((1, 7), (8, 7))
#: Where a bucket's hex digits start in the hash they are cut from: the key hash, or (without a
#: key) the row hash, after the digits that are summed.
KEYED_START, KEYLESS_START = 1, 17
#: The most hex digits a bucket has (it stays a bigint).
MAX_DIGITS = 15
_SCALE = re.compile(r"\(\s*\d+\s*(?:,\s*(\d+)\s*)?\)")


def declared_scale(type_name: str) -> int | None:
    """The scale of `numeric(12,2)` / `DECIMAL(12,2)` (0 for `numeric(5)`), None if none."""
    found = _SCALE.search(type_name)
    return None if found is None else int(found.group(1) or 0)


def common_kind(a: Kind, b: Kind) -> Kind:
    """The kind two sides' columns are compared as: integers against decimals as decimals, any
    number against a float as floats, a zoned timestamp against a plain one in UTC, anything
    else that differs as text."""
    if a == b:
        return a
    if a in _NUMERIC_ORDER and b in _NUMERIC_ORDER:
        return max(a, b, key=_NUMERIC_ORDER.index)
    if {a, b} == {"timestamp", "timestamptz"}:
        return "timestamp"
    return "text"


@dataclass(frozen=True)
class Compared:
    """One column of one side as it enters the hash: its name there, its own kind, and the kind
    both sides compare it as."""

    name: str
    kind: Kind
    common: Kind
    #: A float column compared within this absolute tolerance: hashed by its cell on a grid of
    #: that width, so values in one cell hash alike (values in neighbouring cells are fetched
    #: and compared exactly in Python).
    tolerance: float | None = None
    #: The database's own text of the value is already canonical (decimals of one declared
    #: scale on both sides: `12.50` on both), so no trimming is computed.
    plain: bool = False


@dataclass(frozen=True)
class Shape:
    """What one side's queries hash: the relation, the key columns and the compared ones."""

    relation: str
    key: Sequence[Compared]
    columns: Sequence[Compared]

    @property
    def hash_start(self) -> int:
        return KEYED_START if self.key else KEYLESS_START

    @property
    def integer_key(self) -> bool:
        """One integer key: bucketed by its value modulo 16^digits (no hash to compute), which
        both databases compute alike (the remainder takes the sign of the key on both)."""
        return len(self.key) == 1 and self.key[0].common == "int"


class Hasher(ABC):
    """A database's SQL for the diff: its primitives, and the queries built from them."""

    #: SQLGlot dialect, for quoting names.
    dialect: ClassVar[str]

    # -- the primitives each database writes its own way -------------------------------

    #: Statements run once on the side's connection before its queries.
    session_sql: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def kind_of(self, type_name: str) -> Kind:
        """The kind of a column type as this database names it."""

    @abstractmethod
    def relation(self, database: str | None, schema: str, name: str) -> str:
        """The relation as a query on this database's connection names it."""

    @abstractmethod
    def columns_sql(self, database: str | None, schema: str, name: str) -> str:
        """(name, type) of the relation's columns, in order; no rows when it does not exist."""

    @abstractmethod
    def text(self, sql: str) -> str:
        """Any value as this database's text."""

    @abstractmethod
    def decimal_text(self, sql: str) -> str:
        """An exact number without trailing zeros in its fraction (`12.50` is `12.5`)."""

    @abstractmethod
    def float_text(self, sql: str) -> str:
        """A double as the shortest text that reads back to it, integers without a fraction,
        and `nan`, `inf`, `-inf`."""

    @abstractmethod
    def double(self, sql: str) -> str:
        """A number as a double."""

    @abstractmethod
    def timestamp_text(self, sql: str) -> str:
        """`YYYY-MM-DD HH:MM:SS`, then `.` and the microseconds without trailing zeros, if any
        (dates are `YYYY-MM-DD`, the database's own text)."""

    @abstractmethod
    def in_utc(self, sql: str) -> str:
        """A zoned timestamp as the plain timestamp of its instant in UTC."""

    @abstractmethod
    def md5(self, sql: str) -> str:
        """md5 of a text, as 32 lower-case hex digits."""

    @abstractmethod
    def hex_int(self, sql: str, start: int, length: int) -> str:
        """The integer of `length` hex digits of a text from `start` (1-based): an integer up
        to 7 digits, a bigint up to 15."""

    def quote(self, name: str) -> str:
        return exp.to_identifier(name, quoted=True).sql(dialect=self.dialect)

    # -- built from them ----------------------------------------------------------------

    def canonical(self, column: Compared, *, exact_float: bool = False) -> str:
        """The column's canonical text (NULL stays NULL). `exact_float`: a float's own value
        even under a tolerance (what rows fetched for comparison carry)."""
        sql, kind, common = self.quote(column.name), column.kind, column.common
        if common == "text" or kind == "text":
            return self.text(sql)
        if common == "float":
            value = self.double(sql)
            if column.tolerance is not None and not exact_float:
                value = f"floor({value} / {self.double(repr(column.tolerance))})"
            return self.float_text(value)
        if common == "decimal" and kind == "decimal" and not column.plain:
            return self.decimal_text(sql)
        if common in ("timestamp", "timestamptz"):
            zoned = kind == "timestamptz"
            return self.timestamp_text(self.in_utc(sql) if zoned else sql)
        return self.text(sql)

    def row_text(self, columns: Sequence[Compared]) -> str:
        """Canonical texts joined by `|`; texts that may hold it or be empty get their length
        first, and NULL is the empty string, so two different rows never join alike."""
        parts = []
        for column in columns:
            value = self.canonical(column)
            if column.common in _BARE_KINDS and column.kind in _BARE_KINDS:
                parts.append(f"coalesce({value}, '')")
            else:
                length = self.text(f"length({value})")
                parts.append(f"coalesce({length} || ':' || {value}, '')")
        separator = f" || {quote_literal(SEPARATOR)} || "
        return separator.join(parts) if parts else "''"

    def hashed(
        self,
        shape: Shape,
        *,
        values: bool = False,
        digits: int = 0,
        buckets: Sequence[int] | None = None,
    ) -> str:
        """Each row's key bucket source `dvt_k` (the key, its hash, or without a key the row
        hash) and row hash `dvt_r`, and with `values` the canonical texts `dvt_c<i>` (key
        first) and exact floats `dvt_f<i>`; only the rows of `buckets` at `digits`, if given,
        filtered on the relation's own columns where there is a key, so that nothing else is
        computed for the rows left out."""
        select = [f"{self.md5(self.row_text([*shape.key, *shape.columns]))} AS dvt_r"]
        if values:
            compared = [*shape.key, *shape.columns]
            select += [f"{self.canonical(c)} AS dvt_c{i}" for i, c in enumerate(compared)]
            select += [
                f"{self.canonical(c, exact_float=True)} AS dvt_f{i}"
                for i, c in enumerate(compared)
                if c.tolerance is not None
            ]
        if shape.key:
            key = (
                self.quote(shape.key[0].name)
                if shape.integer_key
                else self.md5(self.row_text(shape.key))
            )
            where = self._in_buckets(shape, key, digits, buckets)
            return f"SELECT {', '.join([f'{key} AS dvt_k', *select])} FROM {shape.relation}{where}"
        inner = f"SELECT {', '.join(select)} FROM {shape.relation}"
        where = self._in_buckets(shape, "dvt_k", digits, buckets)
        return f"SELECT * FROM (SELECT dvt_r AS dvt_k, t.* FROM ({inner}) AS t) AS k{where}"

    def bucket(self, shape: Shape, digits: int, key: str = "dvt_k") -> str:
        """The bucket of a row at `digits` hex digits: 16^digits buckets, each of which holds
        whole buckets of every longer level (a bucket is narrowed by adding digits)."""
        if shape.integer_key:  # a NULL key is in bucket 0, on both sides
            return f"coalesce({key} % {16**digits}, 0)"
        return self.hex_int(key, shape.hash_start, digits)

    def _in_buckets(
        self, shape: Shape, key: str, digits: int, buckets: Sequence[int] | None
    ) -> str:
        if not buckets:
            return ""
        listed = ", ".join(str(b) for b in buckets)
        return f" WHERE {self.bucket(shape, digits, key)} IN ({listed})"

    def buckets_sql(
        self, shape: Shape, digits: int, within: Sequence[int] | None = None, within_digits: int = 0
    ) -> str:
        """(bucket, rows, hash sum 1, hash sum 2) of every bucket at `digits`, within the
        buckets `within` of the shorter level `within_digits`, or all."""
        sums = ", ".join(
            f"sum({self.hex_int('dvt_r', start, size)})" for start, size in HASH_PIECES
        )
        hashed = self.hashed(shape, digits=within_digits, buckets=within)
        return (
            f"SELECT {self.bucket(shape, digits)} AS dvt_b, count(*), {sums} "
            f"FROM ({hashed}) AS h GROUP BY 1"
        )

    def rows_sql(self, shape: Shape, digits: int, buckets: Sequence[int]) -> str:
        """The canonical values of every row of `buckets` at `digits`."""
        return self.hashed(shape, values=True, digits=digits, buckets=buckets)
