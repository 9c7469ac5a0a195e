"""Connectors: how the engine reads from and writes to each type of database.

One module per database type behind `connectors.base.Connector`; `for_target` picks one.
"""

from __future__ import annotations

from dvt.config.targets import TargetSpec
from dvt.connectors.base import Connector
from dvt.exceptions import TargetUnavailableError


def for_target(spec: TargetSpec) -> type[Connector]:
    if spec.type == "postgres":
        from dvt.connectors.postgres import PostgresConnector

        return PostgresConnector
    if spec.type == "duckdb":
        from dvt.connectors.duckdb import DuckDBConnector

        return DuckDBConnector
    if spec.type == "sqlite":
        from dvt.connectors.sqlite import SQLiteConnector

        return SQLiteConnector
    if spec.type == "mysql":
        from dvt.connectors.mysql import MySQLConnector

        return MySQLConnector
    raise TargetUnavailableError(
        f"Target {spec.name!r} is of type {spec.type!r}, which DVT cannot federate yet "
        "(supported: postgres, duckdb, sqlite, mysql)."
    )
