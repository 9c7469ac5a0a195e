"""Differential conformance: every query, federated by DVT into PostgreSQL, gives the answer
PostgreSQL itself gives for the same SQL over copies of its inputs (rows and column types).

One fixed world of six tables on five databases (tests/conformance/dataset.py); about 730
generated queries (generator.py) and the hand-written cases of past bugs (cases.py), each a
table model on the default target `pg`. All models of a test run in one `dvt run` per placement.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.conformance.cases import CASES
from tests.conformance.dataset import (
    ORACLE_SCHEMA,
    PG2_TIMEZONE,
    PG_TIMEZONE,
    TABLES,
    World,
    build_world,
)
from tests.conformance.generator import generate
from tests.conformance.harness import Case, Suite
from tests.functional.projects import Project, dbt_project_yml
from tests.servers.mariadb import MariaDBServer
from tests.servers.postgres import PostgresServer

pytestmark = [
    pytest.mark.conformance,
    pytest.mark.postgres,
    pytest.mark.duckdb,
    pytest.mark.sqlite,
    pytest.mark.mysql,
]


@pytest.fixture(scope="module")
def world(
    postgres: PostgresServer, mariadb: MariaDBServer, tmp_path_factory: pytest.TempPathFactory
) -> World:
    return build_world(postgres, mariadb, tmp_path_factory.mktemp("differential"), "conformance")


def suite(world: World, folder: Path, cases: Sequence[Case]) -> Suite:
    """A project with one table model per case, reading its inputs through source()."""
    sources = {t.name: f"{{{{ source('{t.connection}', '{t.name}') }}}}" for t in TABLES}
    files = {
        "dbt_project.yml": dbt_project_yml("diff", "models:\n  diff:\n    +materialized: table\n"),
        "models/sources.yml": world.sources_yml(),
    }
    for case in cases:
        files[f"models/{case.name}.sql"] = case.render(sources) + "\n"
    project = Project(folder).write(files).profiles(world.outputs(), "pg")
    oracle = {t.name: f"{ORACLE_SCHEMA}.{t.name}" for t in TABLES}
    legend = (
        "inputs: "
        + ", ".join(f"{{{t.name}}} on {t.connection}" for t in TABLES)
        + f"; models on pg (TimeZone {PG_TIMEZONE}; pg2 runs in {PG2_TIMEZONE})"
    )
    return Suite(project.root, world.pg_dsn(), "analytics", list(cases), oracle, legend=legend)


def test_generated_queries_give_postgres_answers(
    world: World, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # About 610 queries, each run under every placement: some 1,800 federated runs.
    cases = generate(scale=1.0)
    assert len(cases) >= 580
    ran = suite(world, tmp_path / "generated", cases).run()
    ran.save(request.node.name, tmp_path)
    invalid = ran.invalid_sql()
    if invalid:
        pytest.fail(
            "the generator wrote SQL PostgreSQL rejects:\n"
            + "\n\n".join(f"{c.name}: {ran.expected[c.name].error}\n{c.sql}" for c in invalid),
            pytrace=False,
        )
    if ran.failures():
        pytest.fail(ran.report(), pytrace=False)


def test_hand_written_cases_give_postgres_answers(
    world: World, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    ran = suite(world, tmp_path / "cases", CASES).run()
    ran.save(request.node.name, tmp_path)
    if ran.failures():
        pytest.fail(ran.report(), pytrace=False)
