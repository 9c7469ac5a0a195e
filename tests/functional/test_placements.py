"""Placements of federated nodes (DESIGN.md section 6): tests on their target over an import,
the target's session settings, the choice `auto` makes and `dvt plan` shows, per-invocation
names under concurrent invocations, and imports always dropped."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from tests.functional.databases import pg_rows, sqlite_table
from tests.functional.projects import Project, dbt_project_yml, duck_output, pg_output
from tests.servers.postgres import PostgresServer

pytestmark = [pytest.mark.postgres, pytest.mark.duckdb]

FILES = {
    "dbt_project.yml": dbt_project_yml("place", "models:\n  place:\n    +materialized: table\n"),
    "models/sources.yml": """\
        sources:
          - name: lake
            schema: main
            config: {connection: duck}
            tables: [{name: visits}, {name: regions}]
          - name: app
            schema: app
            tables: [{name: customers}]
        """,
    # On PostgreSQL, whose TimeZone is America/New_York: local dates and hours are New York's.
    "models/visits_by_day.sql": """\
        select v.customer_id, v.seen_at::date as day, extract(hour from v.seen_at) as hour,
               date_trunc('day', v.seen_at) as day_start, count(*) as visits
        from {{ source('lake', 'visits') }} v
        where v.seen_at >= '2024-03-10 00:00:00' and v.seen_at < '2024-03-11 12:00:00'
        group by 1, 2, 3, 4
        """,
    # PostgreSQL semantics the engine does not share.
    "models/semantics.sql": """\
        select c.id, (date '2024-03-01' - date '2024-01-01') / 7 as weeks,
               c.name like 'a\\_%' as escaped, to_char(c.joined, 'YYYY-MM') as month,
               round(2.5::float8) as half_even, (0.1::float8 + 0.2)::text as float_text,
               sum(c.id) over () as total, avg(c.id) over () as mean
        from {{ source('app', 'customers') }} c
        join {{ source('lake', 'regions') }} r on r.id = c.region_id
        """,
    # Correlated LIMIT, LATERAL, IN / NOT IN / ANY over the remote input.
    "models/subqueries.sql": """\
        select c.id,
               (select v.customer_id from {{ source('lake', 'visits') }} v
                where v.customer_id = c.id order by v.seen_at limit 1) as first_visitor,
               l.seen_at as last_visit,
               c.id in (select customer_id from {{ source('lake', 'visits') }}) as visited,
               c.id not in (select region_id from {{ source('lake', 'regions') }}) as not_region,
               c.id = any (select customer_id from {{ source('lake', 'visits') }}) as any_visit
        from {{ source('app', 'customers') }} c
        left join lateral (
            select v.seen_at from {{ source('lake', 'visits') }} v
            where v.customer_id = c.id order by v.seen_at desc limit 1
        ) l on true
        """,
    "models/several_rows.sql": """\
        select c.id, (select v.customer_id from {{ source('lake', 'visits') }} v) as one
        from {{ source('app', 'customers') }} c
        """,
    "models/regions_copy.sql": "select id, name from {{ source('lake', 'regions') }}",
    "models/schema.yml": """\
        models:
          - name: regions_copy
          - name: several_rows
        data_tests: []
        """,
    "tests/customers_have_regions.sql": """\
        select c.id from {{ source('app', 'customers') }} c
        left join {{ source('lake', 'regions') }} r on r.id = c.region_id
        where r.id is null
        """,
}

RELATIONSHIPS = """\
sources:
  - name: lake
    schema: main
    config: {connection: duck}
    tables: [{name: visits}, {name: regions}]
  - name: app
    schema: app
    tables:
      - name: customers
        columns:
          - name: region_id
            data_tests:
              - relationships: {to: "source('lake', 'regions')", field: id}
"""


@pytest.fixture
def project(postgres: PostgresServer, tmp_path: Path) -> Project:
    database = f"place_{tmp_path.name[-20:]}".lower().replace("-", "_")
    postgres.create_database(database)
    postgres.psql(
        f"alter database {database} set timezone = 'America/New_York';"
        "create schema app; create table app.customers (id int, name text, region_id int, "
        "joined date); insert into app.customers values (1, 'a_b', 1, '2024-01-15'), "
        "(2, 'axb', 2, '2024-02-20'), (3, 'Ann', 1, null), (4, 'bob', 9, '2023-12-31')",
        database,
    )
    lake = tmp_path / "lake.duckdb"
    with duckdb.connect(str(lake)) as conn:
        conn.execute(
            "create table visits (customer_id int, seen_at timestamptz); insert into visits values "
            "(1, '2024-03-10 03:30:00+00'), (1, '2024-03-10 05:00:00+00'), "
            "(2, '2024-03-11 01:00:00+00'), (3, '2024-03-10 16:59:59+00'), "
            "(2, '2024-03-09 23:00:00+00');"
            "create table regions (id int, name varchar); insert into regions values "
            "(1, 'North'), (2, 'South'), (3, 'East')"
        )
    project = Project(tmp_path / "project").write(FILES)
    project.profiles(
        {"pg": pg_output(postgres, database, "analytics"), "duck": duck_output(lake)}, "pg"
    )
    # The oracle: the same inputs copied into PostgreSQL itself.
    postgres.psql(
        "create schema lake; create table lake.visits (customer_id int, seen_at timestamptz);"
        "insert into lake.visits values (1, '2024-03-10 03:30:00+00'), "
        "(1, '2024-03-10 05:00:00+00'), (2, '2024-03-11 01:00:00+00'), "
        "(3, '2024-03-10 16:59:59+00'), (2, '2024-03-09 23:00:00+00');"
        "create table lake.regions (id int, name text); insert into lake.regions values "
        "(1, 'North'), (2, 'South'), (3, 'East')",
        database,
    )
    project.database = database  # type: ignore[attr-defined]
    project.lake = lake  # type: ignore[attr-defined]
    return project


def _native(project: Project, postgres: PostgresServer, model: str) -> list[tuple[object, ...]]:
    """The model's SQL run by PostgreSQL itself over the copies (sources named lake.* / app.*)."""
    sql = (project.root / "models" / f"{model}.sql").read_text()
    sql = sql.replace("{{ source('lake', 'visits') }}", "lake.visits")
    sql = sql.replace("{{ source('lake', 'regions') }}", "lake.regions")
    sql = sql.replace("{{ source('app', 'customers') }}", "app.customers")
    return pg_rows(postgres, project.database, f"({sql}) as native")  # type: ignore[attr-defined]


def _types(postgres: PostgresServer, database: str, model: str) -> list[tuple[object, ...]]:
    return pg_rows(
        postgres,
        database,
        "(select a.attnum, a.attname, format_type(a.atttypid, a.atttypmod) from pg_attribute a "
        f"where a.attrelid = 'analytics.{model}'::regclass and a.attnum > 0) as t",
    )


@pytest.mark.parametrize("model", ["visits_by_day", "semantics", "subqueries"])
def test_a_federated_model_gives_its_targets_answer(
    project: Project, postgres: PostgresServer, model: str
) -> None:
    result = project.dvt("run", "--select", model)
    assert result.success, result.exception
    (node,) = result.result.results
    assert node.adapter_response["dvt"]["placement"] == "target"
    assert pg_rows(postgres, project.database, f"analytics.{model}") == _native(  # type: ignore[attr-defined]
        project, postgres, model
    )
    postgres.psql(
        f"create table analytics.native_{model} as {_sql_of(project, model)}",
        project.database,  # type: ignore[attr-defined]
    )
    database = project.database  # type: ignore[attr-defined]
    assert [t[1:] for t in _types(postgres, database, model)] == [
        t[1:] for t in _types(postgres, database, f"native_{model}")
    ]


def _sql_of(project: Project, model: str) -> str:
    sql = (project.root / "models" / f"{model}.sql").read_text()
    for name, table in (("visits", "lake.visits"), ("regions", "lake.regions")):
        sql = sql.replace(f"{{{{ source('lake', '{name}') }}}}", table)
    return sql.replace("{{ source('app', 'customers') }}", "app.customers")


def test_a_scalar_subquery_of_several_rows_fails_as_on_the_target(project: Project) -> None:
    result = project.dvt("run", "--select", "several_rows")
    assert not result.success
    (node,) = result.result.results
    assert "more than one row returned by a subquery" in str(node.message)


def test_forcing_the_engine_on_what_it_cannot_prove_is_dvt104(project: Project) -> None:
    forced = project.cli("dvt", "run", "--select", "semantics", "--placement", "engine")
    assert forced.returncode == 1
    assert "[DVT104]" in forced.stdout and "cannot prove it means the same" in forced.stdout


def test_tests_run_on_their_target_over_an_import(
    project: Project, postgres: PostgresServer
) -> None:
    """A relationships test from PostgreSQL to DuckDB and a singular test reading both used to
    hang on the import's drop (dbt's open transaction held its lock)."""
    project.write({"models/sources.yml": RELATIONSHIPS})
    started = time.perf_counter()
    tested = project.cli("dvt", "test")
    assert time.perf_counter() - started < 120
    assert tested.returncode == 1, tested.stdout[-3000:]  # customer 4's region 9 does not exist
    results = project.artifact("run_results.json")["results"]
    assert sorted((r["status"], r["failures"]) for r in results) == [("fail", 1), ("fail", 1)]
    assert {r["adapter_response"]["dvt"]["placement"] for r in results} == {"target"}
    assert not pg_rows(
        postgres,
        project.database,  # type: ignore[attr-defined]
        "information_schema.tables where table_name like '%\\_\\_dvt\\_%'",
    )


def test_plan_shows_the_placement_and_why(project: Project) -> None:
    planned = project.dvt("plan", "--output", "json", "--select", "semantics", "regions_copy")
    assert planned.success, planned.exception
    rows = {
        json.loads(line)["unique_id"].split(".")[-1]: json.loads(line) for line in planned.result
    }
    semantics = rows["semantics"]["placement"]
    assert semantics["placement"] == "target"
    assert "cannot be proven the same" in semantics["reason"]
    copy = rows["regions_copy"]["placement"]
    # A plain copy is provably the same in the engine; the rows each placement moves decide.
    assert copy["placement"] in ("target", "engine") and copy["rows_imported"] == 3
    assert "cheaper" in copy["reason"]


FIRST_NAME = """\
    select c.name, r.name as region
    from {{ source('app', 'customers') }} c join {{ source('lake', 'regions') }} r on r.id = c.region_id
    where c.name > 'A' order by c.name limit 1
    """


@pytest.mark.parametrize("collated", [None, "column", "database"])
def test_text_is_ordered_in_the_engine_only_where_the_target_orders_it_by_its_bytes(
    project: Project, postgres: PostgresServer, collated: str | None
) -> None:
    """ORDER BY text, and text compared by order: the engine orders by bytes, as PostgreSQL's C
    collation does ('Ann' before 'a_b'), and ICU's en-US does not ('a_b' first). With a column
    or a database of an ICU collation the engine is refused, and the answer is the target's."""
    database = project.database  # type: ignore[attr-defined]
    if collated == "column":
        postgres.psql(
            'alter table app.customers alter column name type text collate "en-x-icu"', database
        )
    if collated == "database":
        database = f"{database}_icu"
        postgres.psql(
            f"create database {database} template template0 locale_provider icu "
            "icu_locale 'en-US' locale 'C'"
        )
        postgres.psql(
            "create schema app; create table app.customers (id int, name text, region_id int, "
            "joined date); insert into app.customers values (1, 'a_b', 1, '2024-01-15'), "
            "(2, 'axb', 2, '2024-02-20'), (3, 'Ann', 1, null), (4, 'bob', 9, '2023-12-31');"
            "create schema lake; create table lake.regions (id int, name text); "
            "insert into lake.regions values (1, 'North'), (2, 'South'), (3, 'East')",
            database,
        )
        project.profiles(
            {
                "pg": pg_output(postgres, database, "analytics"),
                "duck": duck_output(project.lake),  # type: ignore[attr-defined]
            },
            "pg",
        )
    project.write({"models/first_name.sql": FIRST_NAME})
    native = pg_rows(
        postgres,
        database,
        "(select c.name, r.name as region from app.customers c "
        "join lake.regions r on r.id = c.region_id where c.name > 'A' "
        "order by c.name limit 1) as native",
    )
    assert native == [("Ann", "North")] if collated is None else [("a_b", "North")]
    forced = project.cli("dvt", "run", "--select", "first_name", "--placement", "engine")
    if collated is None:
        assert forced.returncode == 0, forced.stdout[-3000:]
        (node,) = project.artifact("run_results.json")["results"]
        assert node["adapter_response"]["dvt"]["placement"] == "engine"
    else:
        assert forced.returncode == 1
        assert "[DVT104]" in forced.stdout and "collation" in forced.stdout, forced.stdout[-3000:]
        assert project.dvt("run", "--select", "first_name").success
    assert pg_rows(postgres, database, "analytics.first_name") == native


def test_postgres_types_an_engine_result_without_compiling_it(
    project: Project, postgres: PostgresServer
) -> None:
    """The engine placement has PostgreSQL type its result over empty imports (`LIMIT 0`), a
    query that never runs: its JIT would still compile the plan (TPC-DS q10 at sf 0.1: 0.40 s
    of the statement's 0.43 s). DVT's typing statements run with JIT off; the same statement
    from anyone else is compiled, so JIT is on for this database (auto_explain logs each plan)."""
    database = project.database  # type: ignore[attr-defined]
    postgres.psql(
        f"alter database {database} set session_preload_libraries = 'auto_explain';"
        f"alter database {database} set auto_explain.log_min_duration = 0;"
        f"alter database {database} set jit_above_cost = 0",
        database,
    )
    log = postgres.folder / "server.log"
    start = log.stat().st_size
    postgres.psql(
        "create table app.jit_control as select * from (select * from app.customers) "
        "as dvt_typed limit 0",
        database,
    )
    result = project.dvt("run", "--select", "regions_copy", "--placement", "engine")
    assert result.success, result.exception
    assert pg_rows(postgres, database, "analytics.regions_copy") == _native(
        project, postgres, "regions_copy"
    )
    logged = log.read_text(errors="replace")[start:].split(" plan:\n")[1:]
    plans = [entry.split("\n20", 1)[0] for entry in logged]  # up to the next log line
    typed = [plan for plan in plans if "dvt_typed" in plan]
    control = [plan for plan in typed if "jit_control" in plan]
    assert len(control) == 1 and "JIT:" in control[0], plans
    ours = [plan for plan in typed if "jit_control" not in plan]
    assert ours and not [plan for plan in ours if "JIT:" in plan], ours


def test_the_engine_reads_a_read_repeated_in_one_query_once(
    project: Project, postgres: PostgresServer
) -> None:
    """A self-join reads each input twice with the same SQL: the engine reads it once and
    gives the second occurrence the same rows; the answer is PostgreSQL's."""
    project.write(
        {
            "models/visit_pairs.sql": """\
                select a.customer_id, count(*) as pairs, min(c.name) as name, max(d.name) as other
                from {{ source('lake', 'visits') }} a
                join {{ source('lake', 'visits') }} b on b.customer_id = a.customer_id
                join {{ source('app', 'customers') }} c on c.id = a.customer_id
                join {{ source('app', 'customers') }} d on d.id = b.customer_id
                group by a.customer_id
                """
        }
    )
    result = project.dvt("run", "--select", "visit_pairs", "--placement", "engine")
    assert result.success, result.exception
    (node,) = result.result.results
    reads = node.adapter_response["dvt"]["extractions"]
    for source, rows in (("source.place.lake.visits", 5), ("source.place.app.customers", 4)):
        twice = [r for r in reads if r["input"] == source]
        assert len(twice) == 2 and twice[0]["sql"] == twice[1]["sql"], reads
        assert [r["rows"] for r in twice] == [rows, 0], reads
    database = project.database  # type: ignore[attr-defined]
    assert sorted(pg_rows(postgres, database, "analytics.visit_pairs")) == sorted(
        _native(project, postgres, "visit_pairs")
    )
    postgres.psql(
        f"create table analytics.native_visit_pairs as {_sql_of(project, 'visit_pairs')}", database
    )
    assert [t[1:] for t in _types(postgres, database, "visit_pairs")] == [
        t[1:] for t in _types(postgres, database, "native_visit_pairs")
    ]


def test_auto_computes_a_small_result_of_a_large_remote_input_in_the_engine(
    project: Project, postgres: PostgresServer
) -> None:
    """Importing 300,000 rows into PostgreSQL to count them costs more than counting them in
    the engine and writing one row: `auto` picks the engine, and the answer is PostgreSQL's."""
    with duckdb.connect(str(project.lake)) as conn:  # type: ignore[attr-defined]
        conn.execute(
            "create table big as select range % 7 as k, (range % 100 / 4)::decimal(12, 2) "
            "as amount from range(300000)"
        )
        conn.execute("checkpoint")
    project.write(
        {
            "models/big_counts.sql": "select k, count(*) as n from {{ source('lake', 'big') }} "
            "group by k",
            # PostgreSQL sums numerics into an unconstrained numeric: the engine's exact
            # DECIMAL sum is written into it as it is (beyond 2^53 too).
            "models/big_sums.sql": "select k, sum(amount) as total, sum(amount * 100000000000) "
            "as big, sum(k) as ks from {{ source('lake', 'big') }} group by k",
            # `1e6` is an exact numeric in PostgreSQL, a DOUBLE in the engine: not provably the
            # same, so it stays on its target (or, forced, fails with DVT104).
            "models/big_floats.sql": "select k, sum(amount * 1e6) as big "
            "from {{ source('lake', 'big') }} group by k",
            "models/sources.yml": FILES["models/sources.yml"].replace(
                "{name: regions}]", "{name: regions}, {name: big}]"
            ),
        }
    )
    result = project.dvt("run", "--select", "big_counts")
    assert result.success, result.exception
    (node,) = result.result.results
    dvt = node.adapter_response["dvt"]
    assert dvt["placement"] == "engine", dvt["reason"]
    assert dvt["rows_imported"] == 300000
    planned = project.dvt("plan", "--select", "big_counts")
    assert planned.success, planned.exception
    text = "\n".join(planned.result)
    assert "big_counts: federation -> pg, computed in the engine (duckdb)" in text
    assert "rows moved: ~300,000 imported on the target" in text
    database = project.database  # type: ignore[attr-defined]
    assert pg_rows(postgres, database, "analytics.big_counts") == [
        (k, 300000 // 7 + (k < 300000 % 7)) for k in range(7)
    ]
    assert [t[1:] for t in _types(postgres, database, "big_counts")] == [
        ("k", "bigint"),
        ("n", "bigint"),
    ]
    sums = project.dvt("run", "--select", "big_sums")
    assert sums.success, sums.exception
    (node,) = sums.result.results
    assert node.adapter_response["dvt"]["placement"] == "engine", node.adapter_response["dvt"][
        "reason"
    ]
    postgres.psql(
        "create table lake.big (k bigint, amount numeric(12,2)); insert into lake.big "
        "select g % 7, ((g % 100)::numeric / 4)::numeric(12, 2) from generate_series(0, 299999) g;"
        "create table analytics.native_big_sums as select k, sum(amount) as total, "
        "sum(amount * 100000000000) as big, sum(k) as ks from lake.big group by k",
        database,
    )
    assert pg_rows(postgres, database, "analytics.big_sums") == pg_rows(
        postgres, database, "analytics.native_big_sums"
    )
    assert max(row[2] for row in pg_rows(postgres, database, "analytics.big_sums")) > 2**53
    assert [t[1:] for t in _types(postgres, database, "big_sums")] == [
        t[1:] for t in _types(postgres, database, "native_big_sums")
    ]
    floats = project.dvt("run", "--select", "big_floats")
    assert floats.success, floats.exception
    (node,) = floats.result.results
    assert node.adapter_response["dvt"]["placement"] == "target"
    assert "the number 1e6" in node.adapter_response["dvt"]["reason"]
    native = "(select k, sum(amount * 1e6) as big from lake.big group by k) as native"
    assert pg_rows(postgres, database, "analytics.big_floats") == pg_rows(
        postgres, database, native
    )
    forced = project.dvt("run", "--select", "big_floats", "--placement", "engine")
    assert not forced.success
    (node,) = forced.result.results
    assert "[DVT104]" in node.message and "the number 1e6" in node.message


def test_concurrent_invocations_of_one_model_all_succeed(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    """Imports and stages are named per invocation: one run's cleanup never drops another's.
    Three runs of one incremental model at once all succeed and leave every row (a table
    model would race in dbt's own rename to `__dbt_backup`, with or without DVT)."""
    database = f"conc_{tmp_path.name[-20:]}".lower().replace("-", "_")
    postgres.create_database(database)
    postgres.psql(
        "create table public.numbers as select g as n from generate_series(1, 100000) g", database
    )
    app = tmp_path / "app.sqlite"
    sqlite_table(app, "labels", "n integer, label text", [(i, f"l{i}") for i in range(1, 2000)])
    project = Project(tmp_path / "project").write(
        {
            "dbt_project.yml": dbt_project_yml("conc"),
            "models/sources.yml": "sources:\n  - name: app\n    config: {connection: app}\n"
            "    tables: [{name: labels}]\n  - name: pub\n    schema: public\n"
            "    tables: [{name: numbers}]\n",
            "models/labelled.sql": "{{ config(materialized='incremental', unique_key='n', "
            "incremental_strategy='delete+insert') }}\n"
            "select x.n, l.label from {{ source('pub', 'numbers') }} x "
            "join {{ source('app', 'labels') }} l on l.n = x.n",
        }
    )
    project.profiles(
        {
            "pg": pg_output(postgres, database, "analytics"),
            "app": {"type": "sqlite", "path": str(app)},
        },
        "pg",
    )
    first = project.cli("dvt", "run")  # dbt itself races creating a table that does not exist
    assert first.returncode == 0, first.stdout[-3000:]
    code = "import sys; from dvt.cli.main import cli; sys.exit(cli())"
    args = [sys.executable, "-c", code, "run", "--project-dir", str(project.root),
            "--profiles-dir", str(project.root)]  # fmt: skip
    runs = [
        subprocess.Popen(args, stdout=subprocess.PIPE, text=True, cwd=project.root)
        for _ in range(3)
    ]
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    failed = [out[-3000:] for run, out in zip(runs, outputs, strict=True) if run.returncode]
    assert not failed, failed[0]
    # Complete: every row is there (concurrent delete+insert may keep a row twice, with or
    # without DVT: neither run sees the other's uncommitted insert).
    rows = pg_rows(postgres, database, "analytics.labelled")
    assert set(rows) == {(i, f"l{i}") for i in range(1, 2000)}
    assert not pg_rows(
        postgres, database, "information_schema.tables where table_name like '%\\_\\_dvt\\_%'"
    )


def test_show_in_the_engine_gives_the_targets_values_and_types(project: Project) -> None:
    """`dvt show` of a query the engine computes prints what the target's own show prints: a
    numeric quotient, which the engine carries as the text of PostgreSQL's value, is a number
    in the JSON output, not a string. (`--placement engine` fails with DVT104 where the engine
    cannot compute a query: it never falls back to the target.)"""
    joined = (
        "from {{ source('app', 'customers') }} c "
        "join {{ source('lake', 'regions') }} r on r.id = c.region_id group by r.id order by r.id"
    )
    queries = {  # the second unlimited, with a name twice: the engine's result keeps both
        "select r.id, sum(c.id * 1.5) / count(*) as ratio, count(*) as n ": "10",
        "select r.id, sum(c.id * 1.5) / count(*) as ratio, min(r.name) as ratio ": "-1",
    }
    for columns, limit in queries.items():
        shown = {}
        for placement in ("engine", "target"):
            result = project.cli(
                "dvt", "show", "--inline", columns + joined, "--placement", placement,
                "--limit", limit, "--output", "json",
            )  # fmt: skip
            assert result.returncode == 0, result.stdout + result.stderr
            printed = result.stdout[result.stdout.index("{\n") :]
            shown[placement] = json.loads(printed[: printed.rindex("}") + 1])["show"]
        assert shown["engine"] == shown["target"], columns
        assert len(shown["engine"]) == 2, columns
