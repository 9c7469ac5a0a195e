"""Session fixtures: a throwaway PostgreSQL cluster on 127.0.0.1 and project helpers."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.servers.mariadb import MariaDBServer
from tests.servers.postgres import PostgresServer

os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def mariadb() -> Iterator[MariaDBServer]:
    server = MariaDBServer.start()
    try:
        yield server
    finally:
        server.stop()
