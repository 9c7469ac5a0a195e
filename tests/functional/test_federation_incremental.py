"""Federated incremental models: append, merge and delete+insert, on PostgreSQL and DuckDB
targets, over two runs, read only new rows and give the rows the strategy promises."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.functional.databases import duck_rows, pg_rows, sqlite_table
from tests.functional.projects import Project, dbt_project_yml, duck_output, pg_output
from tests.servers.postgres import PostgresServer

pytestmark = [pytest.mark.postgres, pytest.mark.duckdb, pytest.mark.sqlite]

MODEL = """\
{{{{ config(materialized='incremental', incremental_strategy='{strategy}', unique_key='id', target='{target}') }}}}
select id, status, version from {{{{ source('app', 'tickets') }}}}
{{% if is_incremental() %}}
where version > (select max(version) from {{{{ this }}}})
{{% endif %}}
"""


@pytest.mark.parametrize(
    ("placement", "compute"),
    [
        ("target", "duckdb"),
        ("engine", "duckdb"),
        pytest.param("engine", "spark", marks=pytest.mark.spark),
    ],
)
@pytest.mark.parametrize("target", ["pg", "duck"])
@pytest.mark.parametrize("strategy", ["append", "merge", "delete+insert"])
def test_incremental_strategies(
    postgres: PostgresServer,
    tmp_path: Path,
    target: str,
    strategy: str,
    placement: str,
    compute: str,
) -> None:
    database = f"inc_{tmp_path.name[-20:]}".lower().replace("-", "_").replace("+", "_")
    postgres.create_database(database)
    app = tmp_path / "app.sqlite"
    sqlite_table(
        app, "tickets", "id integer, status text, version integer", [(1, "open", 1), (2, "open", 2)]
    )
    project = Project(tmp_path / "project").write(
        {
            "dbt_project.yml": dbt_project_yml("inc"),
            "models/sources.yml": "sources:\n  - name: app\n    config: {connection: app}\n    tables: [{name: tickets}]\n",
            "models/tickets.sql": MODEL.format(strategy=strategy, target=target),
        }
    )
    project.profiles(
        {
            "pg": pg_output(postgres, database, "analytics"),
            "duck": duck_output(tmp_path / "lake.duckdb", "analytics"),
            "app": {"type": "sqlite", "path": str(app)},
        },
        "pg",
    )

    def rows() -> list[tuple[object, ...]]:
        if target == "pg":
            return pg_rows(postgres, database, "analytics.tickets")
        return duck_rows(tmp_path / "lake.duckdb", "lake.analytics.tickets")

    options = ("--compute", compute, "--placement", placement)
    first = project.dvt("run", *options)
    assert first.success, first.exception
    assert rows() == [(1, "open", 1), (2, "open", 2)]
    with sqlite3.connect(app) as conn:  # ticket 1 is closed (a new version), ticket 3 opens
        conn.execute("update tickets set status = 'closed', version = 3 where id = 1")
        conn.execute("insert into tickets values (3, 'open', 4)")
    second = project.dvt("run", *options)
    assert second.success, second.exception
    (result,) = second.result.results
    dvt = result.adapter_response["dvt"]
    (read,) = dvt["extractions"]
    assert read["rows"] == 2  # only the new versions were read
    assert dvt["placement"] == placement
    assert dvt["compute"] == (compute if placement == "engine" else None)
    if strategy == "append":
        assert rows() == [(1, "closed", 3), (1, "open", 1), (2, "open", 2), (3, "open", 4)]
    else:
        assert rows() == [(1, "closed", 3), (2, "open", 2), (3, "open", 4)]
