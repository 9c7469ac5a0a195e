"""The dbt seams DVT patches still exist: this fails loudly when a dbt upgrade moves one."""

from __future__ import annotations

import importlib
import inspect
import os
import subprocess
import sys
from pathlib import Path

import dbt.cli.main as dbt_main
import pytest
from dbt.adapters.factory import FACTORY, AdapterContainer
from dbt.task.run import ModelRunner
from dbt.version import __version__ as dbt_version
from packaging.version import Version

from dvt.cli.main import cli, dvtRunner
from dvt.dbt_seams import install
from dvt.dbt_seams.install import SEAMS, check_seams, check_swaps, dvt_seams
from dvt.dbt_seams.overrides import override_mismatches, unaccepted


def test_every_seam_is_where_dvt_expects_it() -> None:
    check_swaps()


def test_every_dbt_method_dvt_overrides_accepts_dbts_arguments() -> None:
    found = [str(m) for m in override_mismatches()]
    assert not found, "\n".join(found)


def test_check_seams_fails_naming_the_method() -> None:
    check_seams()

    class NarrowRunner(ModelRunner):
        def _execute_model(self, hook_ctx, context_config, model, context):  # type: ignore[no-untyped-def]
            raise NotImplementedError

    (mismatch,) = override_mismatches([NarrowRunner])
    assert mismatch.override.endswith("NarrowRunner._execute_model")
    assert mismatch.original == "dbt.task.run.ModelRunner._execute_model"
    assert "`materialization_macro" in str(mismatch)


def test_check_seams_lists_every_mismatch(monkeypatch: pytest.MonkeyPatch) -> None:
    class NarrowRunner(ModelRunner):
        def execute(self):  # type: ignore[no-untyped-def]
            raise NotImplementedError

    monkeypatch.setattr(install, "override_mismatches", lambda: override_mismatches([NarrowRunner]))
    with pytest.raises(
        RuntimeError, match=r"NarrowRunner\.execute\(self\) does not accept `model`, `manifest`"
    ):
        check_seams()


def _sig(text: str) -> inspect.Signature:
    scope: dict[str, object] = {}
    exec(f"def f{text}: pass", scope)  # a signature written as text
    return inspect.signature(scope["f"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("ours", "theirs", "missing"),
    [
        ("(self, runner)", "(self, runner)", ()),
        ("(self, runner, *args, **kwargs)", "(self, runner, parent_context=None)", ()),
        ("(self, runner)", "(self, runner, parent_context=None)", ("`parent_context=None`",)),
        ("(self, node, manifest)", "(self, model, manifest)", ()),  # positional: names may differ
        ("(self, b, a)", "(self, a, b)", ("`a`", "`b`")),  # but not move
        ("(self, a, b)", "(self, a, b=None)", ("`b=None`",)),  # optional stays optional
        ("(self, a)", "(self, a, *, flag=False)", ("`flag=False`",)),
        ("(self, a, **kwargs)", "(self, a, *, flag=False)", ()),
        ("(self, a, *args)", "(self, a, *, flag=False)", ("`flag=False`",)),
        ("(self, a)", "(self, a, *args, **kwargs)", ("`*args`", "`**kwargs`")),
    ],
)
def test_an_override_accepts_what_dbts_method_accepts(
    ours: str, theirs: str, missing: tuple[str, ...]
) -> None:
    assert unaccepted(_sig(ours), _sig(theirs)) == missing


def test_seams_are_installed_only_during_an_invocation() -> None:
    originals = {(m, a): getattr(importlib.import_module(m), a) for m, a, _ in SEAMS}
    with dvt_seams():
        for module, attribute, replacement in SEAMS:
            installed = getattr(importlib.import_module(module), attribute)
            owner, _, name = replacement.partition(":")
            assert installed is getattr(importlib.import_module(owner), name)
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
    assert f"dbt-core: {dbt_version}" in shown.stdout


def test_a_single_target_invocation_loads_no_engine_or_planner() -> None:
    """Start-up cost: SQLGlot, DuckDB and pyarrow load only when a node federates (dbt 1.12's
    own CLI loads SQLGlot, for MetricFlow: only what DVT adds to dbt's import counts)."""
    heavy = "print(sorted(m for m in ('sqlglot', 'duckdb', 'pyarrow') if m in sys.modules))"
    dvt = (
        "import sys; from dvt.cli.main import cli; from dvt.dbt_seams.install import dvt_seams\n"
        f"with dvt_seams(): pass\n{heavy}"
    )
    dbt = f"import sys; import dbt.cli.main\n{heavy}"
    loaded = [
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        for code in (dvt, dbt)
    ]
    assert loaded[0].stdout == loaded[1].stdout
    if Version(str(dbt_version)) < Version("1.12"):
        assert loaded[0].stdout.strip() == "[]"


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


needs_v2_parser_option = pytest.mark.skipif(
    "use_v2_parser" not in {p.name for p in dbt_main.cli.params},
    reason="this dbt has no v2 parser (dbt 1.12 added --use-v2-parser)",
)


@needs_v2_parser_option
@pytest.mark.parametrize(
    ("args", "env"),
    [(["--use-v2-parser"], {}), ([], {"DBT_ENGINE_USE_V2_PARSER": "true"})],
    ids=["option", "environment"],
)
def test_the_v2_parser_is_refused(tmp_path: Path, args: list[str], env: dict[str, str]) -> None:
    code = "import sys; from dvt.cli.main import cli; sys.exit(cli())"
    done = subprocess.run(
        [sys.executable, "-c", code, *args, "parse", "--profiles-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, **env},
    )
    assert done.returncode == 2
    assert "dbt's v2 parser is not supported under dvt" in done.stderr


@needs_v2_parser_option
def test_the_v2_parser_project_flag_is_refused(tmp_path: Path) -> None:
    (tmp_path / "dbt_project.yml").write_text(
        'name: shop\nversion: "1.0"\nprofile: shop\nflags:\n  use_v2_parser: true\n'
    )
    args = ["parse", "--project-dir", str(tmp_path), "--profiles-dir", str(tmp_path)]
    result = dvtRunner().invoke(args)
    assert not result.success
    assert "dbt's v2 parser is not supported under dvt" in str(result.exception)
