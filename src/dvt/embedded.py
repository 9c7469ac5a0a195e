"""The embedded DuckDB library as DVT uses it everywhere: in-memory connections, and the
extension binaries from their PyPI packages (`duckdb-extension-<name>`), so nothing downloads."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from dvt.exceptions import EngineUnavailableError
from dvt.requirements import installed, pinned


def extension_package(extension: str) -> str:
    """The PyPI distribution that ships a DuckDB extension's binary."""
    return f"duckdb-extension-{extension.replace('_', '-')}"


def extension_path(extension: str) -> Path:
    """The extension's binary built for the installed duckdb (`extensions/v<duckdb version>/`);
    DVT105 with the fix when the package is missing or built for another duckdb."""
    import duckdb

    package = extension_package(extension)
    spec = importlib.util.find_spec(package.replace("-", "_"))
    if spec is None or not spec.submodule_search_locations:
        raise EngineUnavailableError(
            f"The DuckDB extension {extension!r} is missing: install it with "
            f"`pip install '{pinned(package)}'` (or run `dvt sync`)."
        )
    binaries = list(Path(spec.submodule_search_locations[0]).rglob(f"{extension}.duckdb_extension"))
    for binary in binaries:
        if binary.parent.name == f"v{duckdb.__version__}":
            return binary
    if not binaries:
        raise EngineUnavailableError(
            f"Package {package} holds no {extension} binary: reinstall it with "
            f"`pip install --force-reinstall '{pinned(package)}'` (or run `dvt sync`)."
        )
    built_for = ", ".join(sorted(b.parent.name.removeprefix("v") for b in binaries))
    label = " ".join(filter(None, [package, installed(package)]))
    raise EngineUnavailableError(
        f"Package {label} is built for DuckDB {built_for}, but "
        f"duckdb {duckdb.__version__} is installed: install the versions DVT pins with "
        f"`pip install '{pinned('duckdb')}' '{pinned(package)}'` (or run `dvt sync`)."
    )


def connect(config: dict[str, Any] | None = None) -> Any:
    """An in-memory DuckDB connection that never draws a progress bar into dvt's output."""
    import duckdb

    connection = duckdb.connect(":memory:", config=config or {})
    connection.execute("SET enable_progress_bar = false")
    return connection


def register_stream(cursor: Any, name: str, reader: Any) -> None:
    """Make an Arrow record batch reader readable on a DuckDB cursor as `name` (once), through
    the Arrow C stream interface: handed the pyarrow object itself, DuckDB reads it through
    pyarrow.dataset, whose first import (pandas with it) costs 0.2-0.4 s."""
    cursor.register(name, reader.__arrow_c_stream__())
