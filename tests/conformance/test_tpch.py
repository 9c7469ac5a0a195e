"""TPC-H (sf 0.01, DuckDB's generator and queries) federated across PostgreSQL and DuckDB: each
of the 22 queries, a table model on PostgreSQL, gives PostgreSQL's own answer over all eight
tables (rows and column types). lineitem, orders and customer live on the PostgreSQL target;
part, partsupp, supplier, nation and region in a DuckDB file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conformance import tpc
from tests.servers.postgres import PostgresServer

pytestmark = [pytest.mark.conformance, pytest.mark.postgres, pytest.mark.duckdb]

ON_POSTGRES = ("lineitem", "orders", "customer")
ON_DUCKDB = ("part", "partsupp", "supplier", "nation", "region")
#: Without them PostgreSQL takes half a minute for Q20's correlated subquery over lineitem.
INDEXES = (("lineitem", "l_partkey, l_suppkey"), ("lineitem", "l_orderkey"))


def test_tpch_queries_give_postgres_answers(
    postgres: PostgresServer, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    bench, cases = tpc.build("tpch", 0.01, postgres, tmp_path, ON_POSTGRES, ON_DUCKDB, INDEXES)
    assert len(cases) == 22
    ran = tpc.suite(bench, cases, tmp_path / "project").run()
    ran.save(request.node.name, tmp_path)
    if ran.failures():
        pytest.fail(ran.report(), pytrace=False)
