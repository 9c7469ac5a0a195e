"""The extension binary DVT loads is the one built for the installed duckdb, chosen by
`duckdb.__version__`, not by the folders' names."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import duckdb
import pytest

from dvt.embedded import extension_path
from dvt.exceptions import EngineUnavailableError

PACKAGE = "duckdb_extension_sqlite_scanner"


def package_with(folder: Path, versions: list[str]) -> Path:
    """A copy of the installed sqlite_scanner package holding its binary under each version's
    folder (`extensions/v<version>/`), first on the import path."""
    spec = importlib.util.find_spec(PACKAGE)
    assert spec is not None and spec.submodule_search_locations
    installed = Path(spec.submodule_search_locations[0])
    binary = next(installed.rglob("sqlite_scanner.duckdb_extension"))
    copy = folder / PACKAGE
    for version in versions:
        (copy / "extensions" / f"v{version}").mkdir(parents=True)
        shutil.copy(binary, copy / "extensions" / f"v{version}" / binary.name)
    shutil.copy(installed / "__init__.py", copy / "__init__.py")
    return copy


@pytest.fixture
def first_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, PACKAGE, raising=False)
    return tmp_path


def test_the_folder_of_the_installed_duckdb_is_chosen(first_on_path: Path) -> None:
    # "v9.9.9" sorts after the real version: choosing by name would take it.
    copy = package_with(first_on_path, [duckdb.__version__, "9.9.9"])
    chosen = extension_path("sqlite_scanner")
    assert chosen == copy / "extensions" / f"v{duckdb.__version__}" / chosen.name
    connection = duckdb.connect(":memory:")
    connection.execute(f"LOAD '{chosen}'")
    loaded = connection.execute(
        "select loaded from duckdb_extensions() where extension_name = 'sqlite_scanner'"
    ).fetchone()
    assert loaded == (True,)


def test_only_other_duckdb_versions_is_dvt105_naming_them(first_on_path: Path) -> None:
    package_with(first_on_path, ["1.3.2", "1.4.0"])
    with pytest.raises(EngineUnavailableError) as raised:
        extension_path("sqlite_scanner")
    message = raised.value.msg
    assert message.startswith("[DVT105] Package duckdb-extension-sqlite-scanner")
    assert f"built for DuckDB 1.3.2, 1.4.0, but duckdb {duckdb.__version__} is installed" in message
    assert "pip install 'duckdb==" in message and "'duckdb-extension-sqlite-scanner==" in message
