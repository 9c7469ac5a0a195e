"""DVT's warnings are dbt warnings: `--warn-error` and `--warn-error-options` (error, silence)
treat them by their DVT code, as dbt treats its own by event name."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from tests.functional.projects import Project, dbt_project_yml, duck_output

pytestmark = [pytest.mark.duckdb]

FILES = {
    "dbt_project.yml": dbt_project_yml("warned"),
    "models/events_view.sql": """\
        {{ config(materialized='view') }}
        select id, kind from {{ source('lake', 'events') }}
        """,
    "models/schema.yml": """\
        sources:
          - name: lake
            schema: raw
            config: {connection: lake}
            tables: [{name: events}]
        """,
}


@pytest.fixture
def warned(tmp_path: Path) -> Project:
    lake = tmp_path / "lake.duckdb"
    with duckdb.connect(str(lake)) as conn:
        conn.execute(
            "create schema raw; create table raw.events as select 1 as id, 'click' as kind"
        )
    project = Project(tmp_path / "project").write(FILES)
    project.profiles(
        {"main": duck_output(tmp_path / "warehouse.duckdb"), "lake": duck_output(lake, "raw")},
        "main",
    )
    return project


def test_a_dvt_warning_is_a_dbt_warning_with_its_code(warned: Project) -> None:
    done = warned.cli("dvt", "--log-format", "json", "run")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    (warning,) = [line for line in lines if line["info"]["code"] == "DVT001"]
    assert warning["info"]["level"] == "warn"
    assert warning["info"]["name"] == "DVT001"
    assert warning["info"]["msg"].startswith("[DVT001] model.warned.events_view is a view")


@pytest.mark.parametrize(
    "options",
    [
        ["--warn-error"],
        ["--warn-error-options", '{"error": ["DVT001"]}'],
        ["--warn-error-options", '{"error": "all"}'],
        # dbt's "Deprecations" matches every code that starts with D (docs/errors.md).
        ["--warn-error-options", '{"error": ["Deprecations"]}'],
    ],
    ids=["warn-error", "error-DVT001", "error-all", "deprecations"],
)
def test_warn_error_fails_the_node_without_a_traceback(warned: Project, options: list[str]) -> None:
    done = warned.cli("dvt", *options, "run")
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "Traceback" not in output
    assert "[DVT001] model.warned.events_view is a view" in output
    assert warned.statuses() == {"model.warned.events_view": "error"}
    # The same options after the command, as dbt accepts them.
    again = warned.cli("dvt", "run", *options)
    assert again.returncode == 1 and "Traceback" not in again.stdout + again.stderr


def test_a_silenced_code_is_not_printed(warned: Project) -> None:
    done = warned.cli("dvt", "run", "--warn-error-options", '{"silence": ["DVT001"]}')
    assert done.returncode == 0, done.stdout + done.stderr
    assert "DVT001" not in done.stdout
    assert warned.statuses() == {"model.warned.events_view": "success"}


def test_warn_excludes_a_code_from_error_all(warned: Project) -> None:
    options = '{"error": "all", "warn": ["DVT001"]}'
    done = warned.cli("dvt", "run", "--warn-error-options", options)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[DVT001]" in done.stdout


def test_an_unknown_name_is_still_refused_as_dbt_refuses_it(warned: Project) -> None:
    options = ("run", "--warn-error-options", '{"error": ["DVT999"]}')
    done, dbt = warned.cli("dvt", *options), warned.cli("dbt", *options)
    assert done.returncode == dbt.returncode != 0
    assert "DVT999 is not a valid dbt error name" in done.stderr
    # dbt refuses DVT's codes: they are dvt's own names.
    dbt = warned.cli("dbt", "run", "--warn-error-options", '{"error": ["DVT001"]}')
    assert "DVT001 is not a valid dbt error name" in dbt.stderr


def test_project_flags_name_dvt_codes(warned: Project) -> None:
    flags = "flags:\n  warn_error_options:\n    error: [DVT001]\n"
    warned.write({"dbt_project.yml": dbt_project_yml("warned", flags)})
    done = warned.cli("dvt", "run")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert warned.statuses() == {"model.warned.events_view": "error"}


def test_a_federated_view_is_logged_as_the_table_it_is(warned: Project) -> None:
    done = warned.cli("dvt", "run")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "START sql table model main.events_view" in done.stdout
    assert "OK created sql table model main.events_view" in done.stdout
    assert "Finished running 1 table model in" in done.stdout
    assert " view model" not in done.stdout
    # The manifest keeps the model's own config.
    assert (
        warned.artifact("manifest.json")["nodes"]["model.warned.events_view"]["config"][
            "materialized"
        ]
        == "view"
    )
