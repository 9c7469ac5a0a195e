"""Compute engines for federation: one module per engine behind `engines.base.Engine`."""

from __future__ import annotations

from dvt.config.computes import ComputeSpec
from dvt.engines.base import Engine
from dvt.exceptions import EngineUnavailableError

#: SQLGlot dialect of each engine type, known without starting the engine (`dvt plan`).
DIALECTS = {"duckdb": "duckdb", "spark": "spark"}


def create(spec: ComputeSpec) -> Engine:
    """The engine for a compute, imported only when a node needs it."""
    if spec.type == "duckdb":
        from dvt.engines.duckdb import DuckDBEngine

        return DuckDBEngine(spec)
    if spec.type == "spark":
        from dvt.engines.spark import SparkEngine

        return SparkEngine(spec)
    raise EngineUnavailableError(
        f"Compute {spec.name!r} is of type {spec.type!r}, which this DVT release cannot run yet; "
        "use the built-in `duckdb` compute (`--compute duckdb`)."
    )
