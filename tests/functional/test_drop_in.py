"""On a single-target project, `dvt` produces what `dbt` produces: relations, rows, statuses,
artifacts and exit codes, on PostgreSQL and on DuckDB (issue: foundation, "drop-in")."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.functional.databases import duck_relations, duck_rows, pg_relations, pg_rows
from tests.functional.projects import Project, dbt_project_yml, duck_output, pg_output

FILES = {
    "dbt_project.yml": dbt_project_yml("shop", "seeds:\n  shop:\n    +column_types: {}\n"),
    "seeds/customers.csv": """\
        id,name,signup_date,is_active,score
        1,Ann,2024-01-05,true,10.5
        2,Bob,2024-02-11,false,3.25
        3,Chloé,2024-03-01,true,
        """,
    "seeds/orders.csv": """\
        order_id,customer_id,amount,ordered_at
        100,1,20.00,2024-04-01 10:00:00
        101,1,35.50,2024-04-02 11:30:00
        102,2,12.00,2024-04-03 09:15:00
        103,3,99.99,2024-04-04 17:45:00
        """,
    "models/staging/stg_orders.sql": """\
        {{ config(materialized='ephemeral') }}
        select order_id, customer_id, amount from {{ ref('orders') }}
        """,
    "models/customer_totals.sql": """\
        {{ config(materialized='table') }}
        select c.id, c.name, count(o.order_id) as orders, sum(o.amount) as total
        from {{ ref('customers') }} c
        left join {{ ref('stg_orders') }} o on o.customer_id = c.id
        group by c.id, c.name
        """,
    "models/active_customers.sql": """\
        {{ config(materialized='view') }}
        select id, name from {{ ref('customers') }} where is_active
        """,
    "models/orders_incremental.sql": """\
        {{ config(materialized='incremental', unique_key='order_id') }}
        {% if env_var('DVT_TEST_BREAK', '0') == '1' %}
        select * from a_relation_that_does_not_exist
        {% else %}
        select order_id, customer_id, amount from {{ ref('orders') }}
        {% if is_incremental() %}
        where order_id > (select max(order_id) from {{ this }})
        {% endif %}
        {% endif %}
        """,
    "models/schema.yml": """\
        models:
          - name: customer_totals
            columns:
              - name: id
                data_tests: [unique, not_null]
              - name: name
                data_tests:
                  - accepted_values:
                      arguments: {values: ['Ann', 'Bob']}
                      config: {severity: warn}
          - name: orders_incremental
            columns:
              - name: customer_id
                data_tests:
                  - relationships:
                      arguments: {to: ref('customer_totals'), field: id}
        """,
    "snapshots/customers_snapshot.yml": """\
        snapshots:
          - name: customers_snapshot
            relation: ref('customers')
            config:
              unique_key: id
              strategy: check
              check_cols: [name, is_active]
        """,
}

#: Commands run in order on both tools; each is compared on statuses and artifacts.
COMMANDS = [
    ["seed"],
    ["run"],
    ["test"],
    ["snapshot"],
    ["build"],
    ["compile"],
    ["ls", "--output", "name"],
    ["docs", "generate"],
    ["show", "--select", "customer_totals", "--limit", "10"],
]


def _relations_and_rows(project_kind: str, where: Any) -> dict[str, Any]:
    if project_kind == "postgres":
        server, database = where
        relations = pg_relations(server, database, "analytics")
        rows = {name: pg_rows(server, database, f'analytics."{name}"') for name in relations}
    else:
        path = where
        relations = duck_relations(path, "analytics")
        rows = {name: duck_rows(path, f'analytics."{name}"') for name in relations}
    # Snapshot rows carry load timestamps and hashes that differ between any two runs.
    rows["customers_snapshot"] = sorted((r[0], r[1]) for r in rows.get("customers_snapshot", []))
    return {"relations": relations, "rows": rows}


def _comparable_manifest(manifest: dict[str, Any]) -> dict[str, Any]:
    return {
        uid: (n["resource_type"], n["schema"], n["alias"], n["config"].get("materialized"))
        for uid, n in manifest["nodes"].items()
    }


@pytest.fixture(params=["postgres", "duckdb"])
def twin_projects(
    request: pytest.FixtureRequest, tmp_path: Path
) -> tuple[str, Project, Project, Callable[[str], Any]]:
    """The same project twice, one for dbt and one for dvt, each in its own database."""
    kind = request.param
    located: dict[str, Any] = {}
    projects = []
    for tool in ("dbt", "dvt"):
        project = Project(tmp_path / tool).write(FILES)
        if kind == "postgres":
            server = request.getfixturevalue("postgres")
            database = f"{tool}_{tmp_path.name[-24:]}".lower().replace("-", "_")
            server.create_database(database)
            project.profiles({"pg": pg_output(server, database, "analytics")}, "pg")
            located[tool] = (server, database)
        else:
            located[tool] = tmp_path / f"{tool}.duckdb"
            project.profiles({"duck": duck_output(located[tool], "analytics")}, "duck")
        projects.append(project)
    return kind, projects[0], projects[1], located.__getitem__


@pytest.mark.postgres
@pytest.mark.duckdb
def test_single_target_project_matches_dbt(twin_projects: Any) -> None:
    kind, dbt_project, dvt_project, where = twin_projects
    for command in COMMANDS:
        dbt_result = dbt_project.dbt(*command)
        dvt_result = dvt_project.dvt(*command)
        assert dvt_result.success == dbt_result.success, (command, dvt_result.exception)
        if command[0] in {"seed", "run", "test", "snapshot", "build", "compile"}:
            assert dvt_project.statuses() == dbt_project.statuses(), command
        if command[0] == "build":
            # The accepted_values test warns in both tools.
            assert "warn" in set(dvt_project.statuses().values())
        if command[0] == "ls":
            assert sorted(dvt_result.result) == sorted(dbt_result.result)
        if command[0] == "show":
            shown = [
                sorted(map(tuple, r.result.results[0].agate_table.rows))
                for r in (dvt_result, dbt_result)
            ]
            assert shown[0] == shown[1] and len(shown[0]) == 3
        if command[0] == "docs":
            assert set(dvt_project.artifact("catalog.json")["nodes"]) == set(
                dbt_project.artifact("catalog.json")["nodes"]
            )
    assert _comparable_manifest(dvt_project.artifact("manifest.json")) == _comparable_manifest(
        dbt_project.artifact("manifest.json")
    )
    assert _relations_and_rows(kind, where("dvt")) == _relations_and_rows(kind, where("dbt"))


@pytest.mark.postgres
@pytest.mark.duckdb
def test_failure_exit_code_and_retry_match_dbt(
    twin_projects: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    kind, dbt_project, dvt_project, where = twin_projects
    for project, tool in ((dbt_project, "dbt"), (dvt_project, "dvt")):
        assert project.cli(tool, "seed").returncode == 0
    monkeypatch.setenv("DVT_TEST_BREAK", "1")
    broken = {tool: p.cli(tool, "run") for p, tool in ((dbt_project, "dbt"), (dvt_project, "dvt"))}
    assert broken["dvt"].returncode == broken["dbt"].returncode == 1
    assert "Initializing" not in broken["dvt"].stdout  # no compute engine for one target
    assert dvt_project.statuses() == dbt_project.statuses()
    assert "error" in dvt_project.statuses().values()
    monkeypatch.setenv("DVT_TEST_BREAK", "0")
    retried = {
        tool: p.cli(tool, "retry") for p, tool in ((dbt_project, "dbt"), (dvt_project, "dvt"))
    }
    assert retried["dvt"].returncode == retried["dbt"].returncode == 0, retried["dvt"].stdout[
        -2000:
    ]
    assert dvt_project.statuses() == dbt_project.statuses()
    assert set(dvt_project.statuses()) == {"model.shop.orders_incremental"}
    assert _relations_and_rows(kind, where("dvt")) == _relations_and_rows(kind, where("dbt"))
