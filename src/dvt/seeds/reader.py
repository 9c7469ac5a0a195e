"""A seed's CSV file read by DuckDB's CSV reader, with errors that name the file and line."""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dvt.exceptions import SeedFileError
from dvt.quoting import quote_literal

if TYPE_CHECKING:
    import duckdb

#: Every character Python's `str.strip()` removes (`str.isspace()`): agate strips values with it
#: before it tests them for nulls, numbers and dates, so DuckDB must trim exactly the same set.
#: Written out, as computing it scans all of Unicode (40 ms); a unit test checks it.
PYTHON_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)

_DUCKDB_CSV_ERROR = re.compile(r"CSV Error on Line: (\d+)\n(?:Original Line: .*\n)?\s*(.+)")
#: DuckDB's CSV reader refusing a value of a typed column (dbt-duckdb's seed COPY).
_DUCKDB_CONVERSION = re.compile(
    r"CSV Error on Line: (?P<line>\d+)\n.*?Error when converting column \"(?P<column>.*?)\"\. "
    r"Could not convert string \"(?P<value>.*)\" to '(?P<type>[^']*)'",
    re.S,
)


@dataclass(frozen=True)
class SeedCsv:
    """One seed file: its path, delimiter and header, checked the way agate reads them."""

    path: Path
    display_path: str
    delimiter: str
    column_names: tuple[str, ...]

    @classmethod
    def open(cls, path: Path, display_path: str, delimiter: str) -> SeedCsv:
        """Read and check the header; agate would silently rename empty or repeated names."""
        try:
            with path.open(encoding="utf-8-sig", newline="") as handle:
                header = next(csv.reader(handle, delimiter=delimiter), None)
        except UnicodeDecodeError as exc:
            raise SeedFileError(display_path, 1, f"the file is not UTF-8 ({exc.reason})") from exc
        if not header:
            raise SeedFileError(display_path, 1, "the file is empty; a seed needs a header line")
        for position, name in enumerate(header, start=1):
            if not name.strip():
                raise SeedFileError(display_path, 1, f"column {position} of the header is empty")
        repeated = sorted({name for name in header if header.count(name) > 1})
        if repeated:
            raise SeedFileError(display_path, 1, f"the header repeats {', '.join(repeated)}")
        return cls(path, display_path, delimiter, tuple(header))

    def read_head(self, limit: int) -> list[tuple[str | None, ...]] | None:
        """The first `limit` rows as Python's CSV reader (agate's) reads them, an empty field as
        None like DuckDB's reader. None when a row is not plain (ragged, not UTF-8, a field over
        the reader's limit): DuckDB's reader then reads the head, and names the line."""
        width = len(self.column_names)
        rows: list[tuple[str | None, ...]] = []
        try:
            with self.path.open(encoding="utf-8-sig", newline="") as handle:
                reader = csv.reader(handle, delimiter=self.delimiter, strict=True)
                next(reader, None)
                for row in itertools.islice(reader, limit):
                    if len(row) != width:
                        return None
                    rows.append(tuple(value if value else None for value in row))
        except (UnicodeDecodeError, csv.Error):
            return None
        return rows

    def line_of(self, index: int, value: str, *, prefix: bool = False) -> int | None:
        """The line (1-based, the header is line 1) where the first row whose column `index` is
        `value` (or starts with it) begins, read as agate reads the file; None if none is.
        A scan of the file up to that row: only for an error message."""
        try:
            with self.path.open(encoding="utf-8-sig", newline="") as handle:
                reader = csv.reader(handle, delimiter=self.delimiter)
                next(reader, None)
                start = reader.line_num + 1
                for row in reader:
                    if index < len(row):
                        cell = row[index]
                        if cell == value or (prefix and cell.startswith(value)):
                            return start
                    start = reader.line_num + 1
        except (UnicodeDecodeError, csv.Error):
            return None
        return None

    def override_error(
        self,
        column: str,
        value: str,
        override: Any,
        reason: str,
        *,
        truncated: bool = False,
        reported_line: int | None = None,
    ) -> SeedFileError:
        """A value of `column` that its `column_types` override cannot hold, with the line
        where it is (else the line the database reported, when it counts as this file does)."""
        line = self.line_of(self.column_names.index(column), value, prefix=truncated)
        shown = f"{value!r}..." if truncated else repr(value)
        return SeedFileError(
            self.display_path,
            line or reported_line,
            f"column {column!r} has the value {shown}, which its column_types override "
            f"{str(override)!r} cannot hold ({reason})",
            fix="Fix the value or the override",
        )

    def duckdb_override_error(
        self, exc: BaseException, column_types: Mapping[str, Any]
    ) -> SeedFileError | None:
        """dbt-duckdb's COPY refusing a value of a column with a `column_types` override, as
        `override_error`; None for any other error (dbt's message stays as it is)."""
        found = _DUCKDB_CONVERSION.search(str(exc))
        column = found.group("column") if found else None
        if found is None or column not in column_types or column not in self.column_names:
            return None
        return self.override_error(
            column,
            found.group("value"),
            column_types[column],
            f"DuckDB: could not convert it to {found.group('type')}",
            reported_line=int(found.group("line")),
        )

    def column(self, index: int) -> str:
        """The DuckDB name of column `index` in `relation_sql` (positional, so any header works)."""
        return f"c{index}"

    @property
    def relation_sql(self) -> str:
        """A DuckDB table function reading every value as text, exactly as agate's CSV reader."""
        columns = ", ".join(
            f"{quote_literal(self.column(i))}: 'VARCHAR'" for i in range(len(self.column_names))
        )
        return (
            f"read_csv({quote_literal(str(self.path))}, header = true, auto_detect = false, "
            f"delim = {quote_literal(self.delimiter)}, quote = '\"', escape = '\"', "
            f"strict_mode = true, columns = {{{columns}}})"
        )

    def query(self, con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> Any:
        """Run `sql` (which reads `relation_sql`), turning DuckDB's CSV errors into a
        `SeedFileError` naming the file and line."""
        import duckdb

        try:
            return con.execute(sql, params)
        except duckdb.InvalidInputException as exc:
            raise self.error_from(exc) from exc

    def error_from(self, exc: Exception) -> SeedFileError:
        message = str(exc)
        found = _DUCKDB_CSV_ERROR.search(message)
        if found is None:
            return SeedFileError(self.display_path, None, message.splitlines()[0])
        line, reason = int(found.group(1)), found.group(2).strip()
        if "Expected Number of Columns" in reason:
            counts = reason.replace("Expected Number of Columns", "expected columns")
            reason = f"{counts} (a ragged row)"
        elif "unicode" in reason.lower():
            reason = "the file is not UTF-8"
        return SeedFileError(self.display_path, line, reason)
