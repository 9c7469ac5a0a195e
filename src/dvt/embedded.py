"""The embedded DuckDB library as DVT uses it everywhere: in-memory connections, and the
extension binaries from their PyPI packages (`duckdb-extension-<name>`), so nothing downloads."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from dvt.exceptions import EngineUnavailableError


def extension_package(extension: str) -> str:
    """The PyPI distribution that ships a DuckDB extension's binary."""
    return f"duckdb-extension-{extension.replace('_', '-')}"


def extension_path(extension: str) -> Path:
    package = extension_package(extension).replace("-", "_")
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise EngineUnavailableError(
            f"The DuckDB extension {extension!r} is missing: install it with "
            f"`pip install {extension_package(extension)}` (or run `dvt sync`)."
        )
    found = sorted(Path(spec.submodule_search_locations[0]).rglob(f"{extension}.duckdb_extension"))
    if not found:
        raise EngineUnavailableError(
            f"Package {package} holds no {extension} binary; reinstall it."
        )
    return found[-1]


def connect(config: dict[str, Any] | None = None) -> Any:
    """An in-memory DuckDB connection that never draws a progress bar into dvt's output."""
    import duckdb

    connection = duckdb.connect(":memory:", config=config or {})
    connection.execute("SET enable_progress_bar = false")
    return connection
