"""The dbt seams DVT patches still exist: this fails loudly when a dbt upgrade moves one."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import dbt.cli.main as dbt_main
from dbt.adapters.factory import FACTORY, AdapterContainer

from dvt.cli.main import cli, dvtRunner
from dvt.dbt_seams.install import SEAMS, check_seams, dvt_seams


def test_every_seam_is_where_dvt_expects_it() -> None:
    check_seams()


def test_seams_are_installed_only_during_an_invocation() -> None:
    originals = {(m, a): getattr(importlib.import_module(m), a) for m, a, _ in SEAMS}
    with dvt_seams():
        for module, attribute, replacement in SEAMS:
            installed = getattr(importlib.import_module(module), attribute)
            assert f"{installed.__module__}:{installed.__name__}" == replacement
        assert type(FACTORY).__name__ == "DvtAdapterContainer"
    for (module, attribute), original in originals.items():
        assert getattr(importlib.import_module(module), attribute) is original
    assert type(FACTORY) is AdapterContainer


def test_cli_offers_every_dbt_command_and_option() -> None:
    for name, command in dbt_main.cli.commands.items():
        assert name in cli.commands
        dvt_options = {p.name for p in cli.commands[name].params}
        assert {p.name for p in command.params} <= dvt_options
    assert "compute" in {p.name for p in cli.commands["run"].params}
    assert {"plan", "explain"} <= set(cli.commands)


def test_runner_mirrors_dbt_runner() -> None:
    result = dvtRunner().invoke(["--version"])
    assert result.success and result.exception is None
    assert dbt_main.cli is not cli


def test_python_module_entry_point() -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "dvt", "--version"], capture_output=True, text=True
    )
    assert shown.returncode == 0 and shown.stdout.startswith("dvt: ")
    assert "dbt-core: 1.11." in shown.stdout


def test_a_single_target_invocation_loads_no_engine_or_planner() -> None:
    """Start-up cost: SQLGlot, DuckDB and pyarrow load only when a node federates."""
    code = (
        "import sys; from dvt.cli.main import cli; from dvt.dbt_seams.install import dvt_seams\n"
        "with dvt_seams(): pass\n"
        "print(sorted(m for m in ('sqlglot', 'duckdb', 'pyarrow') if m in sys.modules))"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "[]"


def test_init_writes_a_computes_skeleton_that_loads(tmp_path: Path) -> None:
    from dvt.config.computes import Computes

    code = "import sys; from dvt.cli.main import cli; sys.exit(cli())"
    args = ["init", "shop", "--skip-profile-setup", "--computes", "--profiles-dir", str(tmp_path)]
    done = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout[-2000:]
    assert (tmp_path / "shop" / "dbt_project.yml").exists()
    computes = Computes.load(str(tmp_path), "shop")
    assert computes.default == "local_duck"
    assert computes.specs["local_duck"].options["memory_limit"] == "4GB"
