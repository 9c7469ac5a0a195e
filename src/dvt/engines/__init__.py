"""Compute engines for federation: one module per engine behind `engines.base.Engine`."""

from __future__ import annotations

from dvt import dialects
from dvt.config.computes import ComputeSpec
from dvt.engines.base import Engine
from dvt.exceptions import EngineUnavailableError


def dialect(engine_type: str) -> str:
    """SQLGlot dialect of an engine type, known without starting the engine (`dvt plan`)."""
    return _engine_class(engine_type, None).dialect


def create(spec: ComputeSpec) -> Engine:
    """The engine for a compute, imported only when a node needs it."""
    return _engine_class(spec.type, spec.name)(spec)


def _engine_class(engine_type: str, compute: str | None) -> type[Engine]:
    engine: type[Engine]
    if engine_type == "duckdb":
        from dvt.engines.duckdb import DuckDBEngine

        engine = DuckDBEngine
    elif engine_type == "spark":
        from dvt.engines.spark import SparkEngine

        engine = SparkEngine
    else:
        named = f"Compute {compute!r} is of type" if compute else "Compute type"
        raise EngineUnavailableError(
            f"{named} {engine_type!r}, which this DVT release cannot run yet; "
            "use the built-in `duckdb` compute (`--compute duckdb`)."
        )
    dialects.load(engine.dialect)
    return engine
