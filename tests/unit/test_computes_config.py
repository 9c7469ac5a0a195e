"""computes.yml values are checked when the file is loaded, with what each key accepts; the
check of DuckDB's sizes agrees with DuckDB's own parser."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from dvt.config.computes import VALUE_CHECKS, Computes, ComputesFileError

#: Sizes DuckDB reads, and values it refuses (a plain number has no unit: bytes are not assumed).
GOOD_SIZES: list[Any] = [
    "4GB", "512 MB", "1.5GiB", "1gb", "100KB", "2 gigabytes", "-1", -1, "1e3MB", "0.5 GiB",
    "1t", " 1GB ", "10 bytes", "1 kilobyte", "3 TiB", ".5GB", "1k", "18446744TB", "16777216TiB",
]  # fmt: skip
BAD_SIZES: list[Any] = [
    "lots", "10", "80%", "1PB", "", "1,5GB", "+1GB", "1_000MB", "1e+3MB", "1.2.3GB", "GB",
    1073741824, 4, None, True, "18446745TB", "1e400GB",
]  # fmt: skip


@pytest.mark.parametrize("key", ["memory_limit", "max_temp_directory_size"])
def test_the_size_check_agrees_with_duckdb(key: str) -> None:
    import duckdb

    def duckdb_reads(value: Any) -> bool:
        # The engine hands every setting to DuckDB as text (engines/duckdb.py).
        try:
            duckdb.connect(":memory:", config={key: str(value)}).close()
        except duckdb.Error:
            return False
        return True

    check = VALUE_CHECKS[("duckdb", key)]
    for value in GOOD_SIZES + BAD_SIZES:
        assert check.accepts(value) == duckdb_reads(value), value
    assert all(check.accepts(v) for v in GOOD_SIZES)


def _load(tmp_path: Path, compute: str, *, strict: bool = True) -> Computes:
    text = f"test:\n  target: big\n  computes:\n    ok: {{type: duckdb}}\n    big:\n{compute}"
    (tmp_path / "computes.yml").write_text(text)
    return Computes.load(str(tmp_path), "test", strict=strict)


#: (the compute's keys, the bad key, its value as shown, a phrase of what is accepted)
BAD_VALUES = {
    "memory_limit word": (
        "type: duckdb\nmemory_limit: lots",
        "memory_limit",
        "'lots'",
        "a size with a unit, such as '4GB'",
    ),
    "memory_limit without unit": (
        "type: duckdb\nmemory_limit: 1073741824",
        "memory_limit",
        "1073741824",
        "units B, KB, MB, GB, TB",
    ),
    "threads word": ("type: duckdb\nthreads: many", "threads", "'many'", "a whole number"),
    "threads zero": ("type: duckdb\nthreads: 0", "threads", "0", "1 or more"),
    "threads empty": ("type: duckdb\nthreads:", "threads", "nothing", "a whole number"),
    "temp size": (
        "type: duckdb\nmax_temp_directory_size: huge",
        "max_temp_directory_size",
        "'huge'",
        "-1 for no limit",
    ),
    "temp folder list": ("type: duckdb\ntemp_directory: [a]", "temp_directory", "['a']", "folder"),
    "spark jars string": ("type: spark\njars: a.jar", "jars", "'a.jar'", "a list of jar paths"),
    "spark remote": ("type: spark\nremote: localhost", "remote", "'localhost'", "sc://"),
    "spark jdbc key": (
        "type: spark\njdbc: {partitions: 2}",
        "jdbc",
        "{'partitions': 2}",
        "'batchsize', 'fetchsize', 'num_partitions'",
    ),
    "spark config nested": (
        "type: spark\nconfig: {spark: {executor: 1}}",
        "config",
        "{'spark': {'executor': 1}}",
        "a mapping of Spark settings",
    ),
}


@pytest.mark.parametrize("case", list(BAD_VALUES))
def test_a_bad_value_names_file_compute_key_value_and_what_is_accepted(
    case: str, tmp_path: Path
) -> None:
    keys, key, shown, accepted = BAD_VALUES[case]
    compute = textwrap.indent(keys + "\n", " " * 6)
    with pytest.raises(ComputesFileError) as raised:
        _load(tmp_path, compute)
    message = raised.value.msg
    assert message.startswith("[DVT101]"), message
    line = 6 + keys.count("\n")
    assert f"{tmp_path / 'computes.yml'}, line {line}, key test.computes.big.{key}:" in message
    assert f"compute 'big' sets {key} to {shown};" in message, message
    assert accepted in message, message


def test_good_values_load(tmp_path: Path) -> None:
    compute = textwrap.indent(
        "type: duckdb\nmemory_limit: 4GB\nthreads: 2\nmax_temp_directory_size: -1\n"
        "temp_directory: /tmp/dvt\n",
        " " * 6,
    )
    assert _load(tmp_path, compute).specs["big"].options["memory_limit"] == "4GB"
    spark = textwrap.indent(
        "type: spark\nmaster: local[2]\nconfig: {spark.executor.memory: 1g, a.b: 2}\n"
        "jars: [/x/postgresql.jar]\njdbc: {num_partitions: 2, fetchsize: '1000'}\n",
        " " * 6,
    )
    assert _load(tmp_path, spark).specs["big"].type == "spark"


def test_debug_loads_a_broken_compute_with_its_problem(tmp_path: Path) -> None:
    """`dvt debug` reports a broken compute beside the others; every other command refuses."""
    computes = _load(tmp_path, "      type: duckdb\n      threads: many\n", strict=False)
    assert computes.default == "big"
    assert computes.specs["ok"].problem is None
    problem = computes.specs["big"].problem
    assert problem is not None and "compute 'big' sets threads to 'many'" in problem
    untyped = _load(tmp_path, "      threads: 2\n", strict=False).specs["big"]
    assert untyped.type == "no type" and untyped.problem and "needs `type:`" in untyped.problem
