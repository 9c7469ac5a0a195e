"""The differential harness itself, without databases: a case must fail only when DVT's answer
differs from PostgreSQL's, never because the comparison mis-normalises."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.conformance import harness, tpc
from tests.conformance.generator import generate, sql_literal
from tests.conformance.harness import Answer, Case, Run, Ties, compare, is_refusal

CASE = Case("m", "select 1", "test")
RUN = Run(None, 0.0, {}, "")


def verdict(expected: Answer, got: Answer) -> str:
    return compare(CASE, "", expected, got, RUN).verdict


def test_double_precision_is_compared_to_twelve_digits_and_nothing_else_is() -> None:
    floats = [("x", "double precision")]
    assert verdict(Answer(floats, [(0.1 + 0.2,)]), Answer(floats, [(0.3,)])) == "match"
    assert verdict(Answer(floats, [(1.0,)]), Answer(floats, [(1.0000001,)])) == "differ"
    # A float a rounding step away from a 12-digit boundary still matches.
    boundary = Answer(floats, [(0.1234567890125,)]), Answer(floats, [(0.12345678901250001,)])
    assert verdict(*boundary) == "match"
    numbers = [("x", "numeric")]
    scales = Answer(numbers, [(Decimal("2.50"),)]), Answer(numbers, [(Decimal("2.5"),)])
    assert verdict(*scales) == "differ"  # numerics exactly, by their text
    assert verdict(scales[0], scales[0]) == "match"
    texts = [("x", "text")]
    assert verdict(Answer(texts, [("a",)]), Answer(texts, [("a ",)])) == "differ"


def test_rows_are_multisets_and_types_and_names_count() -> None:
    ints = [("x", "integer")]
    assert verdict(Answer(ints, [(1,), (2,), (2,)]), Answer(ints, [(2,), (1,), (2,)])) == "match"
    assert verdict(Answer(ints, [(1,), (2,), (2,)]), Answer(ints, [(1,), (2,)])) == "differ"
    assert verdict(Answer(ints, [(1,)]), Answer([("x", "bigint")], [(1,)])) == "differ"
    assert verdict(Answer(ints, [(1,)]), Answer([("y", "integer")], [(1,)])) == "differ"
    moment = dt.datetime(2024, 1, 1, 5, tzinfo=dt.UTC)
    tz = [("t", "timestamp with time zone")]
    east = moment.astimezone(dt.timezone(dt.timedelta(hours=-5)))
    assert verdict(Answer(tz, [(moment,)]), Answer(tz, [(east,)])) == "match"  # one instant


def test_a_type_only_difference_says_so() -> None:
    outcome = compare(
        CASE,
        "",
        Answer([("x", "numeric")], [(Decimal("1.50"),)]),
        Answer([("x", "double precision")], [(1.5,)]),
        RUN,
    )
    assert outcome.verdict == "differ" and "compared as numbers" in outcome.detail


def test_errors_refusals_and_engine_failures() -> None:
    ok = Answer([("x", "integer")], [(1,)])
    refused = "[DVT104] Model 'm': table function x() cannot be federated."
    crashed = "[DVT104] Federated model 'm' failed while reading 'pg' into 'pg': Parser Error"
    assert is_refusal(refused) and not is_refusal(crashed)
    assert verdict(ok, Answer(error=refused)) == "refused"
    assert verdict(ok, Answer(error=crashed)) == "differ"
    assert verdict(ok, Answer(error="Database Error")) == "differ"
    pg_error = Answer(error="more than one row returned", sqlstate="21000")
    assert verdict(pg_error, Answer(error="anything")) == "both failed"
    assert verdict(pg_error, ok) == "differ"


def test_a_limit_through_ties_accepts_any_of_the_tied_rows() -> None:
    columns = [("k", "integer"), ("v", "text")]
    ties = Ties(before=[(1, "a")], tied=[(2, "b"), (2, "c"), (2, "d")], size=2)
    expected = Answer(columns, [(1, "a"), (2, "b")], ties=ties)
    assert verdict(expected, Answer(columns, [(1, "a"), (2, "d")])) == "match"
    assert verdict(expected, Answer(columns, [(2, "c"), (2, "d")])) == "differ"  # lost (1, a)
    assert verdict(expected, Answer(columns, [(1, "a"), (3, "z")])) == "differ"
    assert verdict(expected, Answer(columns, [(1, "a")])) == "differ"


def test_tpc_templates_replace_tables_not_ctes_or_strings() -> None:
    sql = (
        "WITH store AS (SELECT 1 AS s) SELECT 'store' AS channel, item.i_id, s "
        "FROM item, store JOIN date_dim d ON d.d_sk = item.i_sk;"
    )
    text = tpc.template(sql, ["item", "date_dim", "store"])
    assert "{item} AS item" in text and "{date_dim} AS d" in text
    assert "FROM {item} AS item, store" in text and "'store'" in text
    assert "{store}" not in text


def test_ranked_sql_restates_the_order_over_output_positions() -> None:
    ranked = tpc.ranked_sql(
        "select a.x, sum(a.y) from t a group by a.x order by 2 desc, a.x limit 5"
    )
    assert ranked is not None
    query, size = ranked
    assert size == 5
    assert 'ORDER BY "dvt_c1" DESC, "dvt_c0"' in query and 'q("dvt_c0", "dvt_c1")' in query
    assert query.endswith("order by dvt_rank") and "LIMIT" not in query
    assert tpc.ranked_sql("select x from t order by y limit 3") is None  # y is not shown
    assert tpc.ranked_sql("select x from t order by x") is None


def test_generated_queries_are_the_same_on_every_run_and_write_exact_literals() -> None:
    first, second = generate(scale=0.05), generate(scale=0.05)
    assert [c.sql for c in first] == [c.sql for c in second] and len(first) >= 25
    assert sql_literal(-1.5, "float") == "(-1.5::float8)"
    assert sql_literal(Decimal("-2.50"), "numeric") == "(-2.50)"
    assert sql_literal("O'Brien", "text") == "'O''Brien'"
    assert sql_literal(dt.date(2024, 2, 29), "date") == "date '2024-02-29'"


def test_extension_binaries_come_from_their_packages() -> None:
    for name in ("tpch", "tpcds"):
        assert tpc.extension(name).name == f"{name}.duckdb_extension"
        assert isinstance(tpc.extension(name), Path)


def test_one_run_per_placement_once_dvt_run_has_the_flag(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    commands: list[list[str]] = []

    def run(tool: str, command: list[str], **_: object) -> SimpleNamespace:
        commands.append(command)
        if "--help" in command:
            return SimpleNamespace(stdout="  --placement [target|engine|auto]", returncode=0)
        result = {"unique_id": "model.diff.q0001", "status": "success"}
        (tmp_path / "target").mkdir(exist_ok=True)
        (tmp_path / "target" / "run_results.json").write_text(json.dumps({"results": [result]}))
        return SimpleNamespace(stdout="", stderr="", returncode=0)

    monkeypatch.setattr(harness.forked, "run", run)
    harness.placements.cache_clear()
    try:
        assert harness.placements() == ("target", "engine", "auto")
        done = harness.run_dvt(tmp_path, "engine", "--select", "x")
    finally:
        harness.placements.cache_clear()
    assert commands[-1][-4:] == ["--select", "x", "--placement", "engine"]
    assert done.results["q0001"]["status"] == "success"


def test_without_the_flag_dvt_runs_once_without_it(monkeypatch: pytest.MonkeyPatch) -> None:
    def run(tool: str, command: list[str], **_: object) -> SimpleNamespace:
        return SimpleNamespace(stdout="  --compute TEXT", returncode=0)

    monkeypatch.setattr(harness.forked, "run", run)
    harness.placements.cache_clear()
    try:
        assert harness.placements() == (None,)
    finally:
        harness.placements.cache_clear()
