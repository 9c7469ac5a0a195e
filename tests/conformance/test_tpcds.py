"""TPC-DS (sf 0.01, DuckDB's generator and queries) federated across PostgreSQL and DuckDB: the
seven fact tables live on the PostgreSQL target, the seventeen dimensions in a DuckDB file, and
every query PostgreSQL itself answers over all 24 tables must give that answer when DVT runs it
as a table model on PostgreSQL (rows and column types). Queries PostgreSQL cannot run are
listed in the report and left out."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conformance import tpc
from tests.servers.postgres import PostgresServer

pytestmark = [pytest.mark.conformance, pytest.mark.postgres, pytest.mark.duckdb]


def test_tpcds_queries_give_postgres_answers(
    postgres: PostgresServer, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    bench, cases = tpc.build(
        "tpcds", 0.01, postgres, tmp_path, tpc.TPCDS_FACTS, tpc.TPCDS_DIMENSIONS
    )
    assert len(cases) == 99
    ran = tpc.suite(bench, cases, tmp_path / "project").run()
    ran.save(request.node.name, tmp_path)
    assert len(ran.cases) >= 90, ran.report()  # PostgreSQL runs nearly all of them
    if ran.failures():
        pytest.fail(ran.report(), pytrace=False)
