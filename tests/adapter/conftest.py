"""dbt's own adapter conformance suite (dbt-tests-adapter), run through `dvtRunner`.

dbt's fixtures (`project`, `unique_schema`...) come from `dbt.tests.fixtures.project`; the
profile points at the session's throwaway PostgreSQL cluster, and `run_dbt` invokes `dvt`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import dbt.tests.util
import pytest
from dbt.tests.fixtures.project import *  # noqa: F403 - dbt's fixtures, as its plugin gives them

from dvt.cli.main import dvtRunner
from tests.servers.postgres import PostgresServer

DATABASE = "dbt_adapter_suite"


@pytest.fixture(scope="session")
def suite_database(postgres: PostgresServer) -> str:
    postgres.create_database(DATABASE)
    return DATABASE


@pytest.fixture(scope="class")
def dbt_profile_target(postgres: PostgresServer, suite_database: str) -> dict[str, Any]:
    return {
        "type": "postgres",
        "threads": 4,
        "host": postgres.host,
        "port": postgres.port,
        "user": postgres.user,
        "pass": postgres.password,
        "dbname": suite_database,
    }


@pytest.fixture(scope="session", autouse=True)
def run_dbt_is_dvt() -> Iterator[None]:
    """dbt's `run_dbt` and `run_dbt_and_capture` build a `dbtRunner`: under this suite, DVT's."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(dbt.tests.util, "dbtRunner", dvtRunner)
        yield
