"""Every profile output is a target: nodes run on their own target in one invocation, and bad
names, unreachable outputs and secrets are handled as DESIGN.md sections 4, 5 and 7 say."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.functional.databases import duck_rows, pg_relations, pg_rows
from tests.functional.projects import Project, dbt_project_yml, duck_output, pg_output
from tests.servers.postgres import PostgresServer, free_port

pytestmark = [pytest.mark.postgres, pytest.mark.duckdb]

FILES = {
    "dbt_project.yml": dbt_project_yml(
        "multi", "models:\n  multi:\n    lake:\n      +target: duck\n"
    ),
    "seeds/regions.csv": "id,region\n1,north\n2,south\n",
    "seeds/_seeds.yml": """\
        seeds:
          - name: regions
            config: {target: duck}
        """,
    "models/pg_sales.sql": """\
        select 1 as id, 10.5 as amount union all select 2, 20.25
        """,
    "models/pg_sales_view.sql": """\
        {{ config(materialized='view') }}
        select id, amount * 2 as doubled from {{ ref('pg_sales') }}
        """,
    "models/lake/duck_regions.sql": """\
        {{ config(materialized='table') }}
        select id, upper(region) as region from {{ ref('regions') }}
        """,
    "models/lake/duck_regions_view.sql": """\
        {{ config(materialized='view') }}
        select * from {{ ref('duck_regions') }} where id > 0
        """,
    "models/lake/duck_eph.sql": """\
        {{ config(materialized='ephemeral') }}
        select id, region from {{ ref('duck_regions') }}
        """,
    "models/lake/duck_incremental.sql": """\
        {{ config(materialized='incremental', unique_key='id') }}
        select id, region, list_value(id, id) as pair from {{ ref('duck_eph') }}
        {% if is_incremental() %} where id > (select max(id) from {{ this }}) {% endif %}
        """,
    "models/lake/duck_events.sql": """\
        select * from {{ source('lake', 'events') }}
        """,
    "models/mixed.sql": """\
        select s.id, r.region from {{ ref('pg_sales') }} s join {{ ref('duck_regions') }} r on r.id = s.id
        """,
    "models/schema.yml": """\
        sources:
          - name: lake
            schema: raw
            config: {connection: duck}
            tables: [{name: events}]
        models:
          - name: pg_sales
            columns:
              - name: id
                data_tests: [unique, not_null]
          - name: duck_regions
            columns:
              - name: id
                data_tests: [unique, not_null]
              - name: region
                data_tests:
                  - accepted_values:
                      arguments: {values: ['NORTH', 'SOUTH']}
        """,
}


@pytest.fixture
def multi(postgres: PostgresServer, tmp_path: Path) -> Project:
    database = f"multi_{tmp_path.name[-20:]}".lower().replace("-", "_")
    postgres.create_database(database)
    duck_file = tmp_path / "lake.duckdb"
    import duckdb

    with duckdb.connect(str(duck_file)) as conn:
        conn.execute(
            "create schema raw; create table raw.events as select 1 as id, 'click' as kind"
        )
    project = Project(tmp_path / "project").write(FILES)
    project.profiles(
        {"pg": pg_output(postgres, database, "analytics"), "duck": duck_output(duck_file, "lake")},
        "pg",
    )
    project.database = database  # type: ignore[attr-defined]
    project.duck_file = duck_file  # type: ignore[attr-defined]
    return project


def test_nodes_run_on_their_own_targets_in_one_build(
    multi: Project, postgres: PostgresServer
) -> None:
    result = multi.dvt("build", "--exclude", "mixed")
    assert result.success, result.exception
    statuses = multi.statuses()
    assert set(statuses.values()) == {"success", "pass"}
    assert len(statuses) == 12  # 1 seed, 6 models (the ephemeral one is inlined), 5 tests
    database = multi.database  # type: ignore[attr-defined]
    assert pg_relations(postgres, database, "analytics") == {
        "pg_sales": "VIEW",
        "pg_sales_view": "VIEW",
    }
    assert pg_rows(postgres, database, "analytics.pg_sales_view") == [(1, 21.0), (2, 40.5)]
    duck_file = multi.duck_file  # type: ignore[attr-defined]
    # DuckDB-only SQL (list_value) proves these ran on DuckDB, through DuckDB's materializations.
    assert duck_rows(duck_file, "lake.lake.duck_incremental") == [
        (1, "NORTH", [1, 1]),
        (2, "SOUTH", [2, 2]),
    ]
    assert duck_rows(duck_file, "lake.lake.duck_regions_view") == [(1, "NORTH"), (2, "SOUTH")]
    assert duck_rows(duck_file, "lake.lake.duck_events") == [(1, "click")]
    assert duck_rows(duck_file, "lake.lake.regions") == [(1, "north"), (2, "south")]
    # run_results.json says where each node ran.
    where = {
        r["unique_id"]: r["adapter_response"]["dvt"]
        for r in multi.artifact("run_results.json")["results"]
    }
    assert where["model.multi.duck_regions"]["path"] == "pushdown:duck"
    assert where["model.multi.pg_sales"] == {
        "target": "pg",
        "path": "pushdown",
        "input_targets": [],
        "compute": None,
        "rows": None,  # a view: PostgreSQL reports no rows written
    }
    # Relation names in the manifest come from each node's own target.
    nodes = multi.artifact("manifest.json")["nodes"]
    assert nodes["model.multi.duck_regions"]["relation_name"] == '"lake"."lake"."duck_regions"'
    assert nodes["model.multi.pg_sales"]["database"] == database
    # A second run takes the incremental path on DuckDB.
    again = multi.dvt("run", "--select", "duck_incremental")
    assert again.success, again.exception
    assert duck_rows(duck_file, "lake.lake.duck_incremental") == [
        (1, "NORTH", [1, 1]),
        (2, "SOUTH", [2, 2]),
    ]


def test_plan_and_ls_show_targets_and_paths(multi: Project) -> None:
    keys = ("unique_id", "path", "dvt_target", "dvt_path", "dvt_input_targets")
    listed = multi.dvt("ls", "--output", "json", "--output-keys", *keys)
    assert listed.success, listed.exception
    rows = {r["unique_id"]: r for r in map(json.loads, listed.result)}
    # `path` keeps dbt's meaning (the file); DVT's fields have their own keys.
    assert rows["model.multi.pg_sales"]["path"] == "pg_sales.sql"
    assert rows["model.multi.duck_regions"]["path"] == "lake/duck_regions.sql"
    assert rows["model.multi.pg_sales"]["dvt_path"] == "pushdown"
    assert rows["model.multi.duck_regions"]["dvt_path"] == "pushdown:duck"
    assert rows["model.multi.duck_events"]["dvt_target"] == "duck"
    assert rows["model.multi.mixed"]["dvt_path"] == "federation"
    assert rows["model.multi.mixed"]["dvt_input_targets"] == ["duck", "pg"]
    assert rows["source.multi.lake.events"]["dvt_target"] == "duck"
    assert "target" not in rows["model.multi.mixed"]
    planned = multi.dvt("plan", "--output", "json", "--select", "mixed")
    assert planned.success, planned.exception
    (mixed,) = map(json.loads, planned.result)
    assert "pg_sales (model)" in mixed.pop("plan_error")  # its inputs are not built yet
    assert mixed.pop("unbuilt_inputs") == ["model.multi.pg_sales", "model.multi.duck_regions"]
    assert mixed == {
        "unique_id": "model.multi.mixed",
        "resource_type": "model",
        "target": "pg",
        "path": "federation",
        "input_targets": ["duck", "pg"],
        "compute": "duckdb",
    }
    text = multi.cli("dvt", "plan", "--compute", "spark")
    assert text.returncode == 0, text.stdout
    assert (
        "Build plan: 1 seeds, 7 models (6 pushdown, 1 federation) + 1 ephemeral, 5 tests, "
        "0 snapshots" in text.stdout
    )
    # Not planned here (its inputs are not built): the `computed` cell names the engine it
    # would use.
    (row,) = [line.split() for line in text.stdout.splitlines() if line.startswith("mixed ")]
    assert "mixed: federation -> pg" in text.stdout.splitlines()
    assert row[-1] == "spark", row


def test_target_flag_forces_every_node_to_the_default_target(multi: Project) -> None:
    planned = multi.dvt("plan", "--output", "json", "--target", "pg", "--select", "duck_regions")
    assert planned.success, planned.exception
    rows = [json.loads(r) for r in planned.result]
    assert rows[0]["target"] == "pg" and rows[0]["path"] == "pushdown"


@pytest.mark.parametrize(
    ("files", "code", "expected"),
    [
        (
            {"models/lake/bad.sql": "{{ config(target='nowhere') }} select 1 as id"},
            "DVT100",
            ["model.multi.bad", "models/lake/bad.sql", "'nowhere'", "'duck', 'pg'"],
        ),
        (
            {
                "models/other.yml": "sources:\n  - name: ghost\n    config: {connection: attic}\n    tables: [{name: t}]\n"
            },
            "DVT100",
            ["source.multi.ghost.t", "models/other.yml", "'attic'", "'duck', 'pg'"],
        ),
        (
            {"models/lake/bad.sql": "{{ config(compute='quantum') }} select 1 as id"},
            "DVT101",
            ["model.multi.bad", "'quantum'", "'duckdb', 'spark'"],
        ),
        # A list where one name belongs: not a TypeError (unhashable list) with a traceback.
        (
            {"models/lake/bad.sql": "{{ config(target=['pg', 'duck']) }} select 1 as id"},
            "DVT100",
            [
                "model 'model.multi.bad' (models/lake/bad.sql) sets `target` to ['pg', 'duck']",
                "`target` must be one name, not a list. Targets: 'duck', 'pg'.",
            ],
        ),
        (
            {"models/lake/bad.sql": "{{ config(compute=['duckdb']) }} select 1 as id"},
            "DVT101",
            ["model.multi.bad", "`compute` must be one name", "Computes: 'duckdb', 'spark'"],
        ),
        (
            {
                "models/other.yml": "sources:\n  - name: two\n    config: {connection: [pg, duck]}\n    tables: [{name: t}]\n"
            },
            "DVT100",
            ["source.multi.two.t", "models/other.yml", "`connection` must be one name"],
        ),
    ],
)
def test_unknown_names_fail_at_parse_time(
    multi: Project, files: dict[str, str], code: str, expected: list[str]
) -> None:
    multi.write(files)
    result = multi.cli("dvt", "parse")
    assert result.returncode == 2
    assert f"[{code}]" in result.stdout, result.stdout[-3000:]
    for fragment in expected:
        assert fragment in result.stdout, (fragment, result.stdout[-3000:])
    assert "Traceback" not in result.stdout + result.stderr


def test_unknown_compute_flag_fails(multi: Project) -> None:
    result = multi.cli("dvt", "run", "--compute", "quantum")
    assert result.returncode == 2
    assert "DVT101" in result.stdout and "--compute" in result.stdout


def _with_unreachable_output(
    project: Project, postgres: PostgresServer, secret: str
) -> dict[str, dict[str, object]]:
    """The `multi` outputs plus `pg_down`: a PostgreSQL output on a port nothing listens on."""
    return {
        "pg": pg_output(postgres, project.database, "analytics"),  # type: ignore[attr-defined]
        "duck": duck_output(project.duck_file, "lake"),  # type: ignore[attr-defined]
        "pg_down": {
            **pg_output(postgres, "nowhere", "analytics"),
            "port": free_port(),
            "password": secret,
            "connect_timeout": 2,
            "retries": 0,
        },
    }


def test_unreachable_output_fails_its_nodes_only(
    multi: Project, postgres: PostgresServer, tmp_path: Path
) -> None:
    secret = "s3cr3t-never-printed"
    multi.write(
        {
            "models/down_model.sql": "{{ config(target='pg_down') }} select 1 as id",
            "models/down_child.sql": "{{ config(target='pg_down') }} select * from {{ ref('down_model') }}",
        }
    )
    outputs = _with_unreachable_output(multi, postgres, secret)
    multi.profiles(outputs, "pg")
    result = multi.cli("dvt", "--debug", "--log-format-file", "json", "build", "--exclude", "mixed")
    assert result.returncode == 1, result.stdout[-3000:]
    statuses = multi.statuses()
    assert statuses["model.multi.down_model"] == "error", result.stdout[-3000:]
    assert statuses["model.multi.down_child"] == "skipped"
    assert statuses["model.multi.pg_sales"] == "success"
    assert statuses["model.multi.duck_regions"] == "success"
    assert "pg_down" in result.stdout
    # The password is in profiles.yml only: never in output, logs or artifacts.
    written = [result.stdout, result.stderr]
    for folder in ("target", "logs"):
        written += [
            p.read_text(errors="replace") for p in (multi.root / folder).rglob("*") if p.is_file()
        ]
    assert not [text for text in written if secret in text]


def test_two_outputs_of_one_type_each_keep_their_adapter(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    """Two PostgreSQL databases (one adapter type) and a source located with meta.dvt."""
    first, second = (f"{n}_{tmp_path.name[-16:]}".lower().replace("-", "_") for n in ("one", "two"))
    for database in (first, second):
        postgres.create_database(database)
    postgres.psql("create schema raw; create table raw.items as select 7 as id", second)
    project = Project(tmp_path / "same_type").write(
        {
            "dbt_project.yml": dbt_project_yml("same"),
            "models/on_one.sql": "{{ config(materialized='table') }} select 1 as id",
            "models/on_two.sql": "{{ config(materialized='table', target='pg_two') }} select id from {{ source('raw', 'items') }}",
            "models/sources.yml": "sources:\n  - name: raw\n    meta: {dvt: {connection: pg_two}}\n    tables: [{name: items}]\n",
        }
    )
    project.profiles(
        {
            "pg_one": pg_output(postgres, first, "analytics"),
            "pg_two": pg_output(postgres, second, "analytics"),
        },
        "pg_one",
    )
    result = project.dvt("run", "--threads", "2")
    assert result.success, result.exception
    assert pg_rows(postgres, first, "analytics.on_one") == [(1,)]
    assert pg_rows(postgres, second, "analytics.on_two") == [(7,)]
    assert "on_two" not in pg_relations(postgres, first, "analytics")


def test_debug_checks_every_target_and_compute(
    multi: Project, postgres: PostgresServer, tmp_path: Path
) -> None:
    secret = "debug-secret-never-printed"
    outputs = _with_unreachable_output(multi, postgres, secret)
    multi.profiles(outputs, "pg")
    broken = multi.cli("dvt", "debug")
    assert broken.returncode == 1

    def line(label: str) -> str:
        return next(text for text in broken.stdout.splitlines() if f"  {label} [" in text)

    assert "OK" in line("pg (postgres)") and "OK" in line("duck (duckdb)")
    assert "ERROR" in line("pg_down (postgres)") and "Connection refused" in line(
        "pg_down (postgres)"
    )
    assert "duckdb 1.5.5" in line("duckdb (duckdb)")
    assert secret not in broken.stdout
    del outputs["pg_down"]
    multi.profiles(outputs, "pg")
    healthy = multi.cli("dvt", "debug")
    assert healthy.returncode == 0, healthy.stdout[-2000:]


def test_source_freshness_runs_on_each_sources_connection(multi: Project) -> None:
    multi.write(
        {
            "models/freshness.yml": """\
                sources:
                  - name: fresh
                    schema: raw
                    config:
                      connection: duck
                      loaded_at_field: seen_at
                      freshness: {warn_after: {count: 1, period: day}}
                    tables: [{name: visits}]
                """
        }
    )
    import duckdb

    with duckdb.connect(str(multi.duck_file)) as conn:  # type: ignore[attr-defined]
        conn.execute("create table raw.visits as select now()::timestamp as seen_at")
    result = multi.cli("dvt", "source", "freshness", "--select", "source:fresh")
    assert result.returncode == 0, result.stdout[-3000:]
    (checked,) = multi.artifact("sources.json")["results"]
    assert checked["unique_id"] == "source.multi.fresh.visits" and checked["status"] == "pass"


def test_docs_catalog_holds_tables_from_every_target(multi: Project) -> None:
    built = multi.dvt("build", "--exclude", "mixed")
    assert built.success, built.exception
    generated = multi.cli("dvt", "docs", "generate")
    assert generated.returncode == 0, generated.stdout[-3000:]
    catalog = multi.artifact("catalog.json")
    assert not catalog.get("errors"), catalog.get("errors")
    nodes = catalog["nodes"]
    assert {"model.multi.pg_sales", "model.multi.duck_regions", "seed.multi.regions"} <= set(nodes)
    assert set(nodes["model.multi.duck_regions"]["columns"]) == {"id", "region"}
    assert nodes["model.multi.duck_regions"]["metadata"]["database"] == "lake"
    assert nodes["model.multi.pg_sales"]["metadata"]["database"] == multi.database  # type: ignore[attr-defined]
    assert "source.multi.lake.events" in catalog["sources"]


MIXED_UNIT_TEST = """\
unit_tests:
  - name: mixed_joins_regions
    model: mixed
    given:
      - input: ref('pg_sales')
        rows: [{id: 1}, {id: 2}]
      - input: ref('duck_regions')
        rows: [{id: 1, region: 'NORTH'}]
    expect:
      rows: [{id: 1, region: 'NORTH'}]
"""


def test_unit_test_of_a_federated_model_types_fixtures_from_each_inputs_target(
    multi: Project,
) -> None:
    """The fixture of a DuckDB input of a PostgreSQL model is typed by DuckDB's adapter, in
    PostgreSQL's types, and runs on PostgreSQL: no cross-database reference."""
    multi.write({"models/unit.yml": MIXED_UNIT_TEST})
    ran = multi.dvt("build", "--select", "+duck_regions", "pg_sales", "--exclude", "test_type:unit")
    assert ran.success, ran.exception
    done = multi.cli("dvt", "--no-use-colors", "test", "--select", "test_type:unit")
    assert done.returncode == 0, done.stdout
    assert multi.statuses() == {"unit_test.multi.mixed.mixed_joins_regions": "pass"}


def test_clone_puts_each_node_on_its_own_target(
    multi: Project, postgres: PostgresServer, tmp_path: Path
) -> None:
    built = multi.dvt("build", "--exclude", "test_type:data")
    assert built.success, built.exception
    state = tmp_path / "state"
    state.mkdir()
    (state / "manifest.json").write_bytes((multi.root / "target" / "manifest.json").read_bytes())
    database = multi.database  # type: ignore[attr-defined]
    duck_file = multi.duck_file  # type: ignore[attr-defined]
    multi.profiles(
        {"pg": pg_output(postgres, database, "dev"), "duck": duck_output(duck_file, "lake_dev")},
        "pg",
    )
    cloned = multi.dvt("clone", "--state", str(state))
    assert cloned.success, cloned.exception
    statuses = {r.node.unique_id: str(r.status) for r in cloned.result.results}
    assert set(statuses.values()) == {"success"}, statuses
    assert {"pg_sales", "pg_sales_view", "mixed"} <= set(pg_relations(postgres, database, "dev"))
    assert duck_rows(duck_file, "lake.lake_dev.duck_regions") == [(1, "NORTH"), (2, "SOUTH")]
    assert pg_rows(postgres, database, "dev.mixed") == [(1, "NORTH"), (2, "SOUTH")]


def test_clone_refuses_a_state_relation_on_another_target(
    multi: Project, postgres: PostgresServer, tmp_path: Path
) -> None:
    """State built with `--target pg` holds duck_regions on PostgreSQL: the DuckDB node
    cannot be a clone of it."""
    built = multi.dvt(
        "build", "--target", "pg", "--select", "+duck_regions", "--exclude", "test_type:data"
    )
    assert built.success, built.exception
    state = tmp_path / "state"
    state.mkdir()
    (state / "manifest.json").write_bytes((multi.root / "target" / "manifest.json").read_bytes())
    cloned = multi.dvt("clone", "--state", str(state), "--select", "duck_regions", "pg_sales")
    assert not cloned.success
    by_id = {r.node.unique_id: r for r in cloned.result.results}
    failed = by_id["model.multi.duck_regions"]
    assert str(failed.status) == "error"
    assert "[DVT110]" in failed.message and "'pg'" in failed.message and "'duck'" in failed.message


def test_python_model_on_a_non_default_duckdb_target(multi: Project) -> None:
    """dbt-duckdb runs Python models in its process-wide environment, which a PostgreSQL
    default target never creates: each DuckDB target runs them in its own."""
    multi.write(
        {
            "models/lake/py_regions.py": (
                'def model(dbt, session):\n    return dbt.ref("regions").filter("id > 1")\n'
            )
        }
    )
    built = multi.dvt("build", "--select", "+py_regions")
    assert built.success, built.exception
    duck_file = multi.duck_file  # type: ignore[attr-defined]
    assert duck_rows(duck_file, "lake.lake.py_regions") == [(2, "south")]
