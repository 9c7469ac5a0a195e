"""`dvt build` on a PostgreSQL + DuckDB project: each node's line says where it ran, the plan,
engine start, per-type completion and build completion are structured events in
`--log-format json`, run_results.json records path, targets and rows, `--fail-fast` and
`--selector` apply, and snapshots of another target's source match dbt's (issue "dvt build")."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.functional.databases import duck_rows, pg_rows
from tests.functional.projects import Project, dbt_project_yml, duck_output, pg_output
from tests.servers.postgres import PostgresServer

pytestmark = [pytest.mark.postgres, pytest.mark.duckdb]

SNAPSHOTS = """\
snapshots:
  - name: customers_ts
    relation: source('crm', 'customers')
    config:
      {target}unique_key: id
      strategy: timestamp
      updated_at: updated_at
      hard_deletes: invalidate
  - name: customers_check
    relation: source('crm', 'customers')
    config:
      {target}unique_key: id
      strategy: check
      check_cols: [name]
"""

SOURCES = """\
sources:
  - name: crm
    schema: crm
    tables: [{name: customers}, {name: events}]
"""

FILES = {
    "dbt_project.yml": dbt_project_yml("out", "models:\n  out:\n    lake:\n      +target: duck\n"),
    "seeds/regions.csv": "id,region\n1,north\n2,south\n3,east\n",
    "seeds/channels.csv": "code,label\nw,web\ns,store\n",
    "seeds/_seeds.yml": "seeds:\n  - name: regions\n    config: {target: duck}\n",
    "models/sources.yml": SOURCES,
    "models/stg_customers.sql": """\
        {{ config(materialized='view') }}
        select id, name, region_id from {{ source('crm', 'customers') }}
        """,
    "models/lake/duck_regions.sql": """\
        {{ config(materialized='table') }}
        select id, upper(region) as region from {{ ref('regions') }}
        """,
    "models/combined.sql": """\
        {{ config(materialized='table') }}
        select c.id, c.name, r.region
        {% if env_var('DVT_TEST_BREAK', '') %}, cast(c.name as integer) as broken{% endif %}
        from {{ ref('stg_customers') }} c join {{ ref('duck_regions') }} r on r.id = c.region_id
        """,
    "models/combined_child.sql": """\
        {{ config(materialized='view') }}
        select id, name from {{ ref('combined') }}
        """,
    "models/lake/events_by_region.sql": """\
        {{ config(materialized='table') }}
        select e.id, r.region
        from {{ source('crm', 'events') }} e join {{ ref('duck_regions') }} r on r.id = e.region_id
        """,
    "models/schema.yml": """\
        models:
          - name: combined
            columns:
              - name: id
                data_tests: [not_null]
              - name: region
                data_tests:
                  - accepted_values:
                      arguments: {values: ['NORTH', 'SOUTH']}
        """,
    "snapshots/customers.yml": SNAPSHOTS.format(target="target: duck\n      "),
    "selectors.yml": """\
        selectors:
          - name: combined_and_parents
            definition: {method: fqn, value: combined, parents: true}
        """,
}

CREATE_SOURCES = """
create schema crm;
create table crm.customers (id int primary key, name text, region_id int, updated_at timestamp);
insert into crm.customers values
  (1, 'Ann', 1, '2024-01-01'), (2, 'Bob', 2, '2024-01-01'), (3, 'Cy', 3, '2024-01-01');
create table crm.events as select g as id, 1 + g % 3 as region_id from generate_series(1, 1200) g;
"""
#: Between two snapshot runs: one update (a new `updated_at`) and one hard delete.
CHANGE_SOURCES = """
update crm.customers set name = 'Annie', updated_at = '2024-02-01' where id = 1;
delete from crm.customers where id = 2;
"""
FAILING_TEST = "accepted_values_combined_region__NORTH__SOUTH"


def _database_name(tmp_path: Path, prefix: str) -> str:
    return f"{prefix}_{tmp_path.name[-20:]}".lower().replace("-", "_")


def _multi_target_project(server: PostgresServer, root: Path) -> Project:
    database = _database_name(root, "out")
    server.create_database(database)
    server.psql(CREATE_SOURCES, database)
    project = Project(root / "project").write(FILES)
    project.profiles(
        {
            "pg": pg_output(server, database, "analytics"),
            "duck": duck_output(root / "lake.duckdb", "lake"),
        },
        "pg",
    )
    project.database = database  # type: ignore[attr-defined]
    project.duck_file = root / "lake.duckdb"  # type: ignore[attr-defined]
    return project


def _lines(stdout: str) -> list[str]:
    """Printed lines without their `HH:MM:SS  ` prefix."""
    return [re.sub(r"^\d\d:\d\d:\d\d\s+", "", line) for line in stdout.splitlines()]


def _result_line(lines: list[str], message: str, status: str) -> str:
    """The one result line `N of M <message> .... [<status> in 0.12s]`."""
    pattern = re.compile(
        rf"^\d+ of \d+ {re.escape(message)} \.*\s?\[{re.escape(status)} in \d+\.\d\ds\]$"
    )
    found = [line for line in lines if pattern.match(line)]
    assert len(found) == 1, (message, status, [line for line in lines if " of " in line])
    return found[0]


def _stage_relations(server: PostgresServer, database: str) -> list[tuple[Any, ...]]:
    return pg_rows(
        server, database, "information_schema.tables where table_name like '%\\_\\_dvt\\_%'"
    )


@dataclass
class Built:
    """Two builds of one project: text output, then JSON log lines after the sources changed."""

    project: Project
    text: Any
    text_results: dict[str, dict[str, Any]]
    json_events: list[dict[str, Any]]


@pytest.fixture(scope="module")
def built(postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    project = _multi_target_project(postgres, tmp_path_factory.mktemp("build_output"))
    text = project.cli("dvt", "--no-use-colors", "build")
    results = {r["unique_id"]: r for r in project.artifact("run_results.json")["results"]}
    postgres.psql(CHANGE_SOURCES, project.database)  # type: ignore[attr-defined]
    logged = project.cli("dvt", "--log-format", "json", "build")
    assert logged.returncode == 1, logged.stdout[-3000:]
    yield Built(project, text, results, [json.loads(line) for line in logged.stdout.splitlines()])


def test_each_result_line_says_where_the_node_ran(built: Built) -> None:
    assert built.text.returncode == 1, built.text.stdout[-3000:]  # one test fails on the data
    lines = _lines(built.text.stdout)
    assert "Build plan: 2 seeds, 5 models (3 pushdown, 2 federation), 2 tests, 2 snapshots" in lines
    assert lines.count("Initializing duckdb compute for federation...") == 1
    _result_line(lines, "OK loaded seed file lake.regions", "3 rows -> duck")
    _result_line(lines, "OK loaded seed file analytics.channels", "2 rows -> pg")
    _result_line(lines, "OK created sql view model analytics.stg_customers", "pushdown -> pg")
    _result_line(lines, "OK created sql table model lake.duck_regions", "pushdown -> duck")
    _result_line(
        lines, "OK created sql table model analytics.combined", "federation [duck, pg] -> pg 3 rows"
    )
    _result_line(
        lines,
        "OK created sql table model lake.events_by_region",
        "federation [duck, pg] -> duck 1,200 rows",
    )
    _result_line(lines, "OK snapshotted lake.customers_ts", "federation [pg] -> duck")
    _result_line(lines, "PASS not_null_combined_id (pg)", "PASS")
    _result_line(lines, f"FAIL 1 {FAILING_TEST} (pg)", "FAIL 1")
    assert "Completed seeds: 2/2 OK" in built.text.stdout
    assert "Completed tests: 1/2 OK, 1 failed" in built.text.stdout
    assert "Completed models: 4/5 OK, 1 skipped" in built.text.stdout
    (complete,) = [line for line in lines if line.startswith("Build complete in ")]
    assert re.fullmatch(
        r"Build complete in \d+\.\ds - seeds: 2/2, models: 4/5, snapshots: 2/2, tests: 1/2",
        complete,
    ), complete


def test_a_failing_test_on_a_federated_model_skips_its_children(built: Built) -> None:
    results = built.text_results
    assert results["model.out.combined"]["adapter_response"]["dvt"]["path"] == "federation"
    failing = [r for uid, r in results.items() if FAILING_TEST in uid]
    assert [(r["status"], r["failures"]) for r in failing] == [("fail", 1)]
    assert results["model.out.combined_child"]["status"] == "skipped"
    lines = _lines(built.text.stdout)
    assert any(re.match(r"\d+ of \d+ SKIP relation analytics\.combined_child ", x) for x in lines)


def test_run_results_record_path_targets_and_rows(built: Built) -> None:
    where = {uid: r["adapter_response"]["dvt"] for uid, r in built.text_results.items()}
    assert len(where) == 11  # 2 seeds, 5 models, 2 snapshots, 2 tests: every node says where
    summary = {
        uid: (w["path"], w["input_targets"], w["target"], w["rows"])
        for uid, w in where.items()
        if not uid.startswith("test.")
    }
    assert summary == {
        "seed.out.regions": ("pushdown:duck", [], "duck", 3),
        "seed.out.channels": ("pushdown", [], "pg", 2),
        "model.out.stg_customers": ("pushdown", ["pg"], "pg", None),  # a view writes no rows
        "model.out.duck_regions": ("pushdown:duck", ["duck"], "duck", None),
        "model.out.combined": ("federation", ["duck", "pg"], "pg", 3),
        "model.out.combined_child": ("pushdown", ["pg"], "pg", None),  # skipped
        "model.out.events_by_region": ("federation", ["duck", "pg"], "duck", 1200),
        # dbt-duckdb reports no row count for a snapshot, on its target as on pushdown.
        "snapshot.out.customers_ts": ("federation", ["pg"], "duck", None),
        "snapshot.out.customers_check": ("federation", ["pg"], "duck", None),
    }
    assert {w["target"] for uid, w in where.items() if uid.startswith("test.")} == {"pg"}
    # A federated node also says what each database ran; dbt's own message is kept.
    combined = built.text_results["model.out.combined"]
    # On its target, only the remote input is imported.
    assert {e["target"] for e in combined["adapter_response"]["dvt"]["extractions"]} == {
        "duck",
    }
    assert combined["message"] == "SELECT 3"


def test_json_log_carries_the_build_events(built: Built) -> None:
    by_name: dict[str, list[dict[str, Any]]] = {}
    for event in built.json_events:
        by_name.setdefault(event["info"]["name"], []).append(event)
    (plan,) = by_name["DvtBuildPlan"]
    assert plan["info"]["code"] == "DVT201"
    assert plan["data"] == {
        "seeds": 2,
        "models": 5,
        "pushdown_models": 3,
        "federated_models": 2,
        "tests": 2,
        "snapshots": 2,
        "unit_tests": 0,
        "ephemeral_models": 0,
    }
    (engine,) = by_name["DvtEngineStarting"]
    assert engine["info"]["code"] == "DVT202"
    assert engine["data"] == {"compute": "duckdb", "engine": "duckdb"}
    per_type = {e["data"]["resource_type"]: e["data"] for e in by_name["DvtTypeComplete"]}
    assert set(per_type) == {"seed", "model", "snapshot", "test"}
    assert {k: v for k, v in per_type["test"].items() if k != "execution_time"} == {
        "resource_type": "test",
        "total": 2,
        "succeeded": 1,
        "warned": 0,
        "failed": 1,
        "skipped": 0,
    }
    assert per_type["model"]["skipped"] == 1 and per_type["model"]["succeeded"] == 4
    (complete,) = by_name["DvtBuildComplete"]
    assert complete["info"]["code"] == "DVT204"
    assert complete["info"]["msg"].startswith("Build complete in ")
    assert complete["data"]["execution_time"] > 0
    assert [
        (c["resource_type"], c["total"], c["succeeded"]) for c in complete["data"]["counts"]
    ] == [
        ("seed", 2, 2),
        ("model", 5, 4),
        ("snapshot", 2, 2),
        ("test", 2, 1),
    ]
    # dbt's own result events carry where each node ran in their text fields.
    models = {e["data"]["description"]: e["data"]["status"] for e in by_name["LogModelResult"]}
    assert models["sql table model analytics.combined"] == "federation [duck, pg] -> pg 2 rows"
    assert models["sql view model analytics.stg_customers"] == "pushdown -> pg"
    seeds = {e["data"]["relation"]: e["data"]["result_message"] for e in by_name["LogSeedResult"]}
    assert seeds == {"regions": "3 rows -> duck", "channels": "2 rows -> pg"}
    tests = {e["data"]["name"]: e["data"]["status"] for e in by_name["LogTestResult"]}
    assert tests == {"not_null_combined_id (pg)": "pass", f"{FAILING_TEST} (pg)": "fail"}


def _snapshot_history(rows: list[tuple[Any, ...]], timestamp: bool) -> list[tuple[Any, ...]]:
    """(id, name, valid_from, valid_to) with the run-time stamps dbt writes replaced by `now`:
    only `updated_at` values are the same in two projects."""
    stamps = {r[3] for r in rows} if timestamp else set()

    def comparable(value: datetime | None) -> object:
        return value if value is None or value in stamps else "now"

    return sorted(((r[0], r[1], comparable(r[4]), comparable(r[5])) for r in rows), key=repr)


SNAPSHOT_COLUMNS = "id, name, region_id, updated_at, dbt_valid_from, dbt_valid_to"


def test_snapshots_of_another_targets_source_match_dbt(
    built: Built, postgres: PostgresServer, tmp_path: Path
) -> None:
    duck_file = built.project.duck_file  # type: ignore[attr-defined]
    select = f"(select {SNAPSHOT_COLUMNS} from lake.lake.%s) as s"
    timestamped = _snapshot_history(duck_rows(duck_file, select % "customers_ts"), True)
    checked = _snapshot_history(duck_rows(duck_file, select % "customers_check"), False)
    # The update closes Ann's row at the new updated_at; the hard delete closes Bob's at run time.
    assert timestamped == [
        (1, "Ann", datetime(2024, 1, 1), datetime(2024, 2, 1)),
        (1, "Annie", datetime(2024, 2, 1), None),
        (2, "Bob", datetime(2024, 1, 1), "now"),
        (3, "Cy", datetime(2024, 1, 1), None),
    ]
    # The check strategy has no hard deletes configured: Bob stays current.
    assert checked == [
        (1, "Ann", "now", "now"),
        (1, "Annie", "now", None),
        (2, "Bob", "now", None),
        (3, "Cy", "now", None),
    ]
    # The same snapshots run by dbt on one PostgreSQL database write the same history.
    database = _database_name(tmp_path, "snap")
    postgres.create_database(database)
    postgres.psql(CREATE_SOURCES, database)
    plain = Project(tmp_path / "dbt").write(
        {
            "dbt_project.yml": dbt_project_yml("plain"),
            "models/sources.yml": SOURCES,
            "snapshots/customers.yml": SNAPSHOTS.format(target=""),
        }
    )
    plain.profiles({"pg": pg_output(postgres, database, "analytics")}, "pg")
    assert plain.dbt("snapshot").success
    postgres.psql(CHANGE_SOURCES, database)
    assert plain.dbt("snapshot").success
    select = f"(select {SNAPSHOT_COLUMNS} from analytics.%s) as s"
    assert _snapshot_history(pg_rows(postgres, database, select % "customers_ts"), True) == (
        timestamped
    )
    assert _snapshot_history(pg_rows(postgres, database, select % "customers_check"), False) == (
        checked
    )


@pytest.fixture
def project(postgres: PostgresServer, tmp_path: Path) -> Project:
    return _multi_target_project(postgres, tmp_path)


def test_fail_fast_stops_at_a_failing_federated_model(
    project: Project, postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.write(
        {
            "models/slow.sql": "{{ config(materialized='table') }} select 1 as id from pg_sleep(120)",
            "models/after_slow.sql": "select * from {{ ref('slow') }}",
        }
    )
    monkeypatch.setenv("DVT_TEST_BREAK", "1")  # `combined` fails on PostgreSQL: 'Ann' is no integer
    started = time.perf_counter()
    failed = project.cli("dvt", "build", "--fail-fast")
    elapsed = time.perf_counter() - started
    assert failed.returncode == 1, failed.stdout[-3000:]
    # The run stopped: the query still running was cancelled, what had not started never ran.
    assert elapsed < 60, failed.stdout[-3000:]
    statuses = project.statuses()
    assert statuses["model.out.combined"] == "error"
    assert statuses["model.out.after_slow"] == "skipped"
    assert statuses["model.out.slow"] != "success"
    assert statuses["model.out.combined_child"] == "skipped"
    assert 'invalid input syntax for type integer: "Ann"' in failed.stdout
    assert "model combined" in failed.stdout
    # Nothing staged is left: not by the failed model, nor by the snapshots cancelled mid-way.
    assert not _stage_relations(postgres, project.database)  # type: ignore[attr-defined]
    duck_tables = duck_rows(project.duck_file, "information_schema.tables")  # type: ignore[attr-defined]
    assert not [t for t in duck_tables if "__dvt_" in str(t)]


def test_selector_builds_a_federated_model_and_its_parents(project: Project) -> None:
    built = project.cli("dvt", "--no-use-colors", "build", "--selector", "combined_and_parents")
    assert built.returncode == 1, built.stdout[-3000:]  # the accepted_values test fails
    tests = [uid for uid in project.artifact("manifest.json")["nodes"] if uid.startswith("test.")]
    assert set(project.statuses()) == {
        "seed.out.regions",
        "model.out.duck_regions",
        "model.out.stg_customers",
        "model.out.combined",
        *tests,  # both test `combined`
    }
    lines = _lines(built.stdout)
    assert "Build plan: 1 seeds, 3 models (2 pushdown, 1 federation), 2 tests, 0 snapshots" in lines
    _result_line(
        lines, "OK created sql table model analytics.combined", "federation [duck, pg] -> pg 3 rows"
    )


def test_single_target_lines_are_dbts(tmp_path: Path) -> None:
    files = {
        "dbt_project.yml": dbt_project_yml("one"),
        "seeds/colors.csv": "id,color\n1,red\n2,blue\n",
        "models/wide.sql": "select id, upper(color) as color from {{ ref('colors') }}",
        "models/schema.yml": "models:\n  - name: wide\n    columns:\n      - name: id\n        data_tests: [unique]\n",
    }
    printed = {}
    for tool in ("dbt", "dvt"):
        project = Project(tmp_path / tool).write(files)
        project.profiles({"duck": duck_output(tmp_path / f"{tool}.duckdb")}, "duck")
        run = project.cli(tool, "--no-use-colors", "build")
        assert run.returncode == 0, run.stdout[-3000:]
        printed[tool] = [
            re.sub(r" in \d+\.\d+s\]$", "]", line)
            for line in _lines(run.stdout)
            if re.match(r"\d+ of \d+ ", line)
        ]
    assert sorted(printed["dvt"]) == sorted(printed["dbt"])
    assert len(printed["dvt"]) == 6  # start and result lines of one seed, one model, one test
