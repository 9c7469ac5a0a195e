"""Malformed profiles.yml and computes.yml: every error names the file, the key and the line to
fix, and the command stops before touching any database."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from dvt.config.computes import Computes, ComputesFileError
from dvt.exceptions import UnknownComputeError
from tests.functional.projects import Project, dbt_project_yml, duck_output

pytestmark = pytest.mark.duckdb

GOOD_COMPUTE = "test:\n  target: small\n  computes:\n    small: {type: duckdb, threads: 1}\n"

#: computes.yml text -> (line, the key path it names, a phrase of the reason).
BAD_COMPUTES = {
    "invalid YAML": (
        """\
        test:
          computes:
            big: {type: duckdb, threads: 2
          target: big
        """,
        4,
        None,
        "not valid YAML",
    ),
    "compute without type": (
        """\
        test:
          target: big
          computes:
            ok: {type: duckdb}
            big:
              memory_limit: 1GB
        """,
        5,
        "test.computes.big",
        "needs `type:` one of 'duckdb', 'spark'",
    ),
    "type that does not exist": (
        """\
        test:
          computes:
            big:
              threads: 2
              type: duckbd
        """,
        5,
        "test.computes.big.type",
        "not 'duckbd'",
    ),
    "file not a mapping": ("- test\n- other\n", 1, None, "must map profile names"),
    "profile not a mapping": ("other: {}\ntest: [big]\n", 2, "test", "must be a mapping"),
    "computes not a mapping": (
        "test:\n  computes:\n    - big\n",
        2,
        "test.computes",
        "must be a mapping",
    ),
    "compute not a mapping": (
        "test:\n  computes:\n    big: 4GB\n",
        3,
        "test.computes.big",
        "must be a mapping",
    ),
    "unknown key of a compute": (
        "test:\n  computes:\n    big:\n      type: duckdb\n      memory_limt: 1GB\n",
        5,
        "test.computes.big.memory_limt",
        "unknown key for a duckdb compute",
    ),
    "unknown key of a profile": (
        "test:\n  target: duckdb\n  compute:\n    big: {type: duckdb}\n",
        3,
        "test.compute",
        "unknown key",
    ),
    "default naming no compute": (
        "test:\n  computes:\n    big: {type: duckdb}\n  target: bigg\n",
        4,
        "test.target",
        "names compute 'bigg', which is not defined",
    ),
}


@pytest.mark.parametrize("case", list(BAD_COMPUTES))
def test_malformed_computes_yml_names_file_key_and_line(case: str, tmp_path: Path) -> None:
    text, line, key, reason = BAD_COMPUTES[case]
    path = tmp_path / "computes.yml"
    path.write_text(textwrap.dedent(text))
    with pytest.raises((ComputesFileError, UnknownComputeError)) as e:
        Computes.load(str(tmp_path), "test")
    message = str(e.value)
    assert "DVT101" in message
    assert f"{path}, line {line}" in message, message
    if key is not None:
        assert f"key {key}" in message, message
    assert reason in message, message


def test_a_valid_computes_yml_still_loads(tmp_path: Path) -> None:
    (tmp_path / "computes.yml").write_text(GOOD_COMPUTE)
    computes = Computes.load(str(tmp_path), "test")
    assert computes.default == "small"
    assert computes.specs["small"].options["threads"] == 1
    assert set(computes.specs) == {"duckdb", "spark", "small"}


@pytest.fixture
def project(tmp_path: Path) -> Project:
    project = Project(tmp_path / "project").write(
        {"dbt_project.yml": dbt_project_yml("config_errors"), "models/m.sql": "select 1 as a"}
    )
    project.profiles({"duck": duck_output(tmp_path / "lake.duckdb")}, "duck")
    return project


BAD_VALUE = "test:\n  target: big\n  computes:\n    big: {type: duckdb, memory_limit: lots}\n"


def test_a_bad_compute_value_stops_the_command_before_any_node(project: Project) -> None:
    """Not every federated node failing with DuckDB's parser error: the command, at once."""
    project.write({"models/other.sql": "select 2 as b"})
    (project.root / "computes.yml").write_text(BAD_VALUE)
    result = project.cli("dvt", "run")
    assert result.returncode == 2, result.stdout[-2000:]
    where = f"{project.root / 'computes.yml'}, line 4, key test.computes.big.memory_limit"
    assert f"[DVT101] {where}: compute 'big' sets memory_limit to 'lots'; " in result.stdout
    assert "memory_limit takes a size with a unit, such as '4GB'" in result.stdout
    assert "Parser Error" not in result.stdout
    assert not (project.root / "lake.duckdb").exists()


def test_debug_reports_a_compute_with_a_bad_value_as_broken(project: Project) -> None:
    (project.root / "computes.yml").write_text(
        "test:\n  computes:\n    big: {type: duckdb, threads: many}\n"
        "    small: {type: duckdb, threads: 1}\n"
    )
    result = project.cli("dvt", "debug")
    assert result.returncode == 1, result.stdout[-3000:]
    lines = {
        label: text
        for text in result.stdout.splitlines()
        for label in ("big (duckdb)", "small (duckdb)", "duck (duckdb)")
        if f"  {label} [" in text
    }
    assert "ERROR" in lines["big (duckdb)"], result.stdout[-3000:]
    assert (
        "compute 'big' sets threads to 'many'; threads takes a whole number"
        in lines["big (duckdb)"]
    )
    assert "OK" in lines["small (duckdb)"] and "OK" in lines["duck (duckdb)"]
    assert "1 check(s) failed: big (duckdb)" in result.stdout


def _profiles(project: Project, text: str) -> Path:
    path = project.root / "profiles.yml"
    path.write_text(textwrap.dedent(text).replace("LAKE", str(project.root / "lake.duckdb")))
    return path


def test_the_cli_reports_a_bad_computes_yml_and_builds_nothing(project: Project) -> None:
    (project.root / "computes.yml").write_text("test:\n  computes:\n    big: {threads: 2}\n")
    result = project.cli("dvt", "run")
    assert result.returncode == 2, result.stdout[-2000:]
    assert f"{project.root / 'computes.yml'}, line 3, key test.computes.big" in result.stdout
    assert not (project.root / "lake.duckdb").exists()


def test_profiles_output_without_type_names_file_key_and_line(project: Project) -> None:
    path = _profiles(
        project,
        """\
        test:
          target: duck
          outputs:
            duck: {type: duckdb, path: LAKE}
            other:
              path: /nowhere/other.duckdb
        """,
    )
    result = project.dvt("parse")
    assert not result.success
    assert f"DVT100] {path}, line 5, key test.outputs.other: the output needs `type:`" in str(
        result.exception
    )


def test_profiles_output_not_a_mapping_names_file_key_and_line(project: Project) -> None:
    path = _profiles(
        project,
        "test:\n  target: duck\n  outputs:\n    duck: {type: duckdb, path: LAKE}\n"
        "    other: [1, 2]\n",
    )
    result = project.dvt("parse")
    assert not result.success
    assert f"{path}, line 5, key test.outputs.other: an output must be a mapping" in str(
        result.exception
    )


@pytest.mark.sqlite
@pytest.mark.parametrize("path", ["", "\n      path: ''"], ids=["no-path", "empty-path"])
def test_sqlite_output_without_path_says_what_to_set(project: Project, path: str) -> None:
    """Not `SQLite file '' does not exist` when the first node reads it: the command stops."""
    profiles = _profiles(
        project,
        "test:\n  target: duck\n  outputs:\n    duck: {type: duckdb, path: LAKE}\n"
        f"    lite:\n      type: sqlite{path}\n",
    )
    project.write(
        {
            "models/sources.yml": "sources:\n  - name: lite\n    config: {connection: lite}\n"
            "    tables: [{name: t}]\n",
            "models/from_lite.sql": "select * from {{ source('lite', 't') }}",
        }
    )
    result = project.cli("dvt", "run")
    assert result.returncode == 2, result.stdout[-3000:]
    assert (
        f"[DVT100] {profiles}, line 5, key test.outputs.lite: the sqlite output 'lite' has no "
        "`path`; set `path:` to the SQLite database file to read" in result.stdout
    ), result.stdout[-3000:]
    assert "does not exist" not in result.stdout
    assert not (project.root / "lake.duckdb").exists()


def test_profiles_invalid_yaml_is_reported_by_dbt_with_the_line(project: Project) -> None:
    _profiles(
        project,
        "test:\n  target: duck\n  outputs:\n    duck: {type: duckdb, path: LAKE\n    x: 1\n",
    )
    result = project.cli("dvt", "parse")
    assert result.returncode == 2
    assert "error while trying to read your profiles.yml file" in result.stdout
    assert "Syntax error near line 5" in result.stdout
    assert "4  |     duck: {type: duckdb" in result.stdout  # the lines around it, numbered


def test_default_output_without_type_is_dbts_error_naming_key_and_output(
    project: Project,
) -> None:
    _profiles(project, "test:\n  target: duck\n  outputs:\n    duck: {path: LAKE}\n")
    result = project.cli("dvt", "parse")
    assert result.returncode == 2
    assert 'required field "type" not found in profile test and target duck' in result.stdout
