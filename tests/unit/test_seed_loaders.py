"""How the DuckDB seed load tells a cancel from a value it must recheck."""

import threading
import time
from pathlib import Path

import duckdb
import pytest
from dbt_common.exceptions import DbtRuntimeError

from dvt.seeds.loaders import _interrupted


def _wrapped(error: Exception) -> DbtRuntimeError:
    """The error as dbt-duckdb's exception handler raises it."""
    try:
        raise DbtRuntimeError(str(error)) from error
    except DbtRuntimeError as wrapped:
        return wrapped


def test_a_cancelled_statement_is_an_interrupt() -> None:
    con = duckdb.connect()
    threading.Timer(0.2, con.interrupt).start()
    started = time.perf_counter()
    with pytest.raises(duckdb.InterruptException) as raised:
        con.execute("select count(*) from range(10000000000) a, range(1000) b").fetchall()
    assert time.perf_counter() - started < 30
    assert _interrupted(_wrapped(raised.value))


def test_a_csv_error_that_quotes_the_word_interrupt_is_not(tmp_path: Path) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text("a,b\n1,2\ninterrupt,3,4\n")
    with pytest.raises(duckdb.Error) as raised:
        duckdb.connect().execute(
            f"select * from read_csv('{csv}', header = true, auto_detect = false, "
            "columns = {'a': 'VARCHAR', 'b': 'VARCHAR'}, strict_mode = true)"
        ).fetchall()
    assert "interrupt" in str(raised.value).lower()
    assert not _interrupted(_wrapped(raised.value))
