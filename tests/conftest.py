"""Session fixtures: a throwaway PostgreSQL cluster, MariaDB server and Spark Connect server on
127.0.0.1, each started when a test first asks for it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.servers.mariadb import MariaDBServer
from tests.servers.postgres import PostgresServer

if TYPE_CHECKING:
    from tests.servers.spark import SparkConnectServer

os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    with PostgresServer.start() as server:
        yield server


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    """A server of the test's own, for a test that stops or breaks it."""
    with PostgresServer.start() as server:
        yield server


@pytest.fixture(scope="session")
def mariadb() -> Iterator[MariaDBServer]:
    server = MariaDBServer.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def spark_connect() -> Iterator[SparkConnectServer]:
    """A Spark Connect server in local mode, with the machine's PostgreSQL JDBC driver (a Connect
    server reads and writes PostgreSQL with its own jars)."""
    from tests.servers.spark import SparkConnectServer

    driver = Path("/usr/share/java/postgresql.jar")
    with SparkConnectServer.start(jars=(str(driver),) if driver.exists() else ()) as server:
        yield server
