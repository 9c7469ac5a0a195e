"""How `dvt diff` reads its two sides, and the kinds two databases' columns are compared as."""

from __future__ import annotations

import pytest

from dvt.diff.hashing.base import common_kind, declared_scale
from dvt.diff.sides import SideName, parse
from dvt.exceptions import DiffError


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("customers", SideName("node", "customers", None, "customers")),
        ("customers@duck", SideName("node", "customers", "duck", "customers@duck")),
        ("source:raw.orders", SideName("source", "raw.orders", None, "source:raw.orders")),
        (
            "pg:analytics.orders",
            SideName("relation", "analytics.orders", "pg", "pg:analytics.orders"),
        ),
        ("duck:lake.main.t", SideName("relation", "lake.main.t", "duck", "duck:lake.main.t")),
        ("duck:t", SideName("relation", "t", "duck", "duck:t")),
    ],
)
def test_sides_are_read_in_every_form(written: str, expected: SideName) -> None:
    assert parse(written) == expected


@pytest.mark.parametrize(
    ("written", "says"),
    [
        ("source:orders", "source:<source name>.<table name>"),
        ("pg:a.b.c.d", "<target>:[database.]schema.table"),
        ("pg:", "<target>:[database.]schema.table"),
        ("@duck", "<name>@<target>"),
        ("  ", "Nothing to compare"),
    ],
)
def test_malformed_sides_say_the_form(written: str, says: str) -> None:
    with pytest.raises(DiffError, match="DVT108") as raised:
        parse(written)
    assert says in str(raised.value)


def test_common_kinds() -> None:
    assert common_kind("int", "decimal") == "decimal"
    assert common_kind("decimal", "float") == "float"
    assert common_kind("timestamptz", "timestamp") == "timestamp"
    assert common_kind("int", "text") == "text"
    assert common_kind("date", "date") == "date"


def test_declared_scale() -> None:
    assert declared_scale("numeric(18,2)") == 2
    assert declared_scale("DECIMAL(18, 3)") == 3
    assert declared_scale("numeric(5)") == 0
    assert declared_scale("numeric") is None
