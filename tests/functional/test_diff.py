"""`dvt diff`: two relations on PostgreSQL and DuckDB compared without copying either; every
planted difference reported exactly, equal values of different types equal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from dvt.diff import compare
from tests.functional.projects import Project, dbt_project_yml, duck_output, pg_output
from tests.servers.postgres import PostgresServer

pytestmark = [pytest.mark.postgres, pytest.mark.duckdb]

PG_TABLE = """
create schema shop;
create table shop.orders (
    id integer, customer text, amount numeric(18,2), paid boolean, ordered date,
    updated timestamp, zoned timestamptz, ratio double precision, note varchar(20)
);
insert into shop.orders values
    (1, 'ann', 10.50, true, '2024-01-01', '2024-01-01 10:00:00.123456', '2024-01-01 10:00:00+02',
     0.1, 'a|b'),
    (2, 'bob', 20.00, false, '2024-01-02', '2024-01-02 11:30:00', '2024-01-02 00:00:00+00',
     3.0, null),
    (3, null, null, null, null, null, null, null, ''),
    (4, 'dan', -0.25, true, '1999-12-31', '1999-12-31 23:59:59.5', '1999-12-31 23:59:59.5-05',
     1e20, 'x'),
    (null, 'nobody', null, null, null, null, null, null, null);
"""

DUCK_TABLE = """
create schema shop;
create table shop.orders (
    id bigint, customer varchar, amount decimal(18,2), paid boolean, ordered date,
    updated timestamp, zoned timestamptz, ratio double, note varchar
);
insert into shop.orders values
    (1, 'ann', 10.50, true, '2024-01-01', '2024-01-01 10:00:00.123456', '2024-01-01 08:00:00+00',
     0.1, 'a|b'),
    (2, 'bob', 20.00, false, '2024-01-02', '2024-01-02 11:30:00', '2024-01-02 00:00:00+00',
     3.0, null),
    (3, null, null, null, null, null, null, null, ''),
    (4, 'dan', -0.25, true, '1999-12-31', '1999-12-31 23:59:59.5', '2000-01-01 04:59:59.5+00',
     1e20, 'x'),
    (null, 'nobody', null, null, null, null, null, null, null);
"""

FILES = {
    "dbt_project.yml": dbt_project_yml("diffs"),
    "models/totals.sql": """\
        select id, amount * 2 as doubled, cast(ordered as date) as ordered from {{ source('shop', 'orders') }}
        """,
    "models/sources.yml": """\
        sources:
          - name: shop
            schema: shop
            tables: [{name: orders}]
          - name: lake
            schema: shop
            config: {connection: duck}
            tables: [{name: orders}]
        """,
}


@pytest.fixture
def both(postgres: PostgresServer, tmp_path: Path) -> Project:
    database = f"diff_{tmp_path.name[-20:]}".lower().replace("-", "_")
    postgres.create_database(database)
    postgres.psql(PG_TABLE, database)
    duck_file = tmp_path / "lake.duckdb"
    duck_sql(duck_file, DUCK_TABLE)
    project = Project(tmp_path / "project").write(FILES)
    project.profiles(
        {"pg": pg_output(postgres, database, "analytics"), "duck": duck_output(duck_file, "lake")},
        "pg",
    )
    project.database = database  # type: ignore[attr-defined]
    project.duck_file = duck_file  # type: ignore[attr-defined]
    project.server = postgres  # type: ignore[attr-defined]
    return project


def duck_sql(path: Path, sql: str) -> None:
    import duckdb

    with duckdb.connect(str(path)) as conn:
        conn.execute(sql)


def diff_json(project: Project, *args: str) -> tuple[int, dict[str, Any]]:
    """Run `dvt diff ... --output json` as a process: its exit code and its report."""
    done = project.cli("dvt", "diff", *args, "--output", "json", "--quiet")
    documents = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert documents, done.stdout + done.stderr
    return done.returncode, json.loads(documents[-1])


def test_equal_values_of_both_databases_types_are_identical(both: Project) -> None:
    code, found = diff_json(both, "pg:shop.orders", "duck:shop.orders", "--key", "id")
    assert code == 0, found
    assert found["identical"] is True
    assert (found["a"]["rows"], found["b"]["rows"]) == (5, 5)
    assert found["columns"] == [
        "id",
        "customer",
        "amount",
        "paid",
        "ordered",
        "updated",
        "zoned",
        "ratio",
        "note",
    ]
    assert found["compared_as_text"] == {}
    assert found["rows_fetched"] == 0
    code, keyless = diff_json(both, "pg:shop.orders", "duck:shop.orders")
    assert (code, keyless["identical"]) == (0, True)


def test_a_changed_value_an_extra_row_and_a_missing_row_are_each_reported(
    both: Project,
) -> None:
    duck_sql(
        both.duck_file,  # type: ignore[attr-defined]
        "update shop.orders set amount = 10.51 where id = 1; delete from shop.orders where id = 2;"
        "insert into shop.orders (id, customer) values (5, 'eve')",
    )
    code, found = diff_json(both, "pg:shop.orders", "duck:shop.orders", "--key", "id")
    assert code == 1
    assert found["identical"] is False
    assert (found["rows_only_in_a"], found["rows_only_in_b"], found["rows_changed"]) == (1, 1, 1)
    assert found["changed_by_column"] == {"amount": 1}
    assert found["samples"]["changed"] == [
        {"key": {"id": "1"}, "columns": {"amount": ["10.50", "10.51"]}}
    ]
    assert [r["id"] for r in found["samples"]["only_in_a"]] == ["2"]
    assert found["samples"]["only_in_b"][0]["id"] == "5"
    assert found["samples"]["only_in_b"][0]["customer"] == "eve"

    done = both.cli("dvt", "diff", "pg:shop.orders", "duck:shop.orders", "--key", "id")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "rows changed: 1 (amount: 1)" in done.stdout
    assert "changed: id='1': amount: '10.50' -> '10.51'" in done.stdout

    # A NULL key matches a NULL key (its bucket is fetched like any other).
    duck_sql(both.duck_file, "update shop.orders set customer = 'NOBODY' where id is null")  # type: ignore[attr-defined]
    code, found = diff_json(both, "pg:shop.orders", "duck:shop.orders", "--key", "id")
    assert (code, found["rows_changed"], found["changed_by_column"]) == (
        1,
        2,
        {"amount": 1, "customer": 1},
    )
    assert {"key": {"id": None}, "columns": {"customer": ["nobody", "NOBODY"]}} in found["samples"][
        "changed"
    ]


def test_without_a_key_rows_are_multisets_and_duplicates_count(both: Project) -> None:
    duck_sql(
        both.duck_file,  # type: ignore[attr-defined]
        "insert into shop.orders select * from shop.orders where id in (1, 4);"
        "update shop.orders set customer = 'BOB' where id = 2",
    )
    code, found = diff_json(both, "pg:shop.orders", "duck:shop.orders")
    assert code == 1
    assert found["rows_only_in_a"] == 1
    assert found["rows_only_in_b"] == 3
    assert sorted(r["id"] for r in found["samples"]["only_in_b"]) == ["1", "2", "4"]
    assert found["samples"]["only_in_a"][0]["customer"] == "bob"
    code, found = diff_json(both, "pg:shop.orders", "duck:shop.orders", "--samples", "1")
    assert (code, found["rows_only_in_b"], len(found["samples"]["only_in_b"])) == (1, 3, 1)


def test_float_tolerance(both: Project) -> None:
    duck_sql(
        both.duck_file,  # type: ignore[attr-defined]
        "update shop.orders set ratio = 0.1000001 where id = 1",
    )
    code, found = diff_json(both, "pg:shop.orders", "duck:shop.orders", "--key", "id")
    assert (code, found["changed_by_column"]) == (1, {"ratio": 1})
    code, found = diff_json(
        both, "pg:shop.orders", "duck:shop.orders", "--key", "id", "--float-tolerance", "1e-6"
    )
    assert (code, found["identical"]) == (0, True)
    code, found = diff_json(
        both, "pg:shop.orders", "duck:shop.orders", "--key", "id", "--float-tolerance", "1e-8"
    )
    assert (code, found["rows_changed"]) == (1, 1)


def test_models_and_sources_by_name(both: Project) -> None:
    # As processes: dbt-duckdb holds the file open in the process that ran it.
    assert both.cli("dvt", "run").returncode == 0
    assert both.cli("dvt", "run", "--target", "duck").returncode == 0
    # `totals` on pg against its build on duck (over duck's own copy of the orders).
    code, found = diff_json(both, "totals", "totals@duck", "--key", "id")
    assert code == 0, found
    assert found["a"]["target"] == "pg" and found["b"]["target"] == "duck"
    assert found["b"]["relation"] == '"lake"."lake"."totals"'
    code, found = diff_json(both, "source:shop.orders", "source:lake.orders", "--key", "id")
    assert (code, found["identical"]) == (0, True)


def test_differing_buckets_are_narrowed_and_fetched_alone(
    both: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    server: PostgresServer = both.server  # type: ignore[attr-defined]
    database: str = both.database  # type: ignore[attr-defined]
    server.psql(
        "create table shop.many as select g as id, g * 1.5 as v from generate_series(1, 5000) g",
        database,
    )
    duck_sql(
        both.duck_file,  # type: ignore[attr-defined]
        "create table shop.many as select g as id, g * 1.5 as v from range(1, 5001) t(g);"
        "update shop.many set v = -1 where id in (7, 4000); delete from shop.many where id = 99",
    )
    monkeypatch.setattr(compare, "FIRST_LEVEL", 1)
    monkeypatch.setattr(compare, "LEAF_ROWS", 20)
    result = both.dvt("diff", "pg:shop.many", "duck:shop.many", "--key", "id", "--output", "json")
    diff = result.result
    assert (diff.only_in_a, diff.only_in_b, diff.changed) == (1, 0, 2)
    assert diff.changed_by_column == {"v": 2}
    assert (diff.rows_a, diff.rows_b) == (5000, 4999)
    assert diff.rows_fetched < 100
    assert diff.queries >= 3  # two bucket levels at least (narrowed), then the fetch


def test_errors_name_the_side_and_exit_2(both: Project) -> None:
    done = both.cli("dvt", "diff", "pg:shop.nothing", "duck:shop.orders")
    assert done.returncode == 2
    assert "[DVT108]" in done.stdout and '"shop"."nothing"' in done.stdout
    assert "on target 'pg'" in done.stdout
    done = both.cli("dvt", "diff", "pg:shop.orders", "duck:shop.orders", "--key", "nope")
    assert done.returncode == 2
    assert "--key column 'nope'" in done.stdout
    assert "dvt-test-secret" not in done.stdout + done.stderr


def test_numbers_of_other_scales_and_types_compare_by_value(both: Project) -> None:
    server: PostgresServer = both.server  # type: ignore[attr-defined]
    server.psql(
        "create table shop.mixed (id int, a numeric(18,2), b numeric, c integer, d text);"
        "insert into shop.mixed values (1, 1.50, 2.250, 3, '4'), (2, -0.10, 100, null, '5')",
        both.database,  # type: ignore[attr-defined]
    )
    duck_sql(
        both.duck_file,  # type: ignore[attr-defined]
        "create table shop.mixed (id hugeint, a decimal(18,4), b decimal(30,10), "
        "c decimal(10,0), d integer);"
        "insert into shop.mixed values (1, 1.5, 2.25, 3, 4), (2, -0.1, 100, null, 5)",
    )
    code, found = diff_json(both, "pg:shop.mixed", "duck:shop.mixed", "--key", "id")
    assert (code, found["identical"]) == (0, True), found
    assert found["compared_as_text"] == {"d": ["text", "INTEGER"]}
    duck_sql(both.duck_file, "update shop.mixed set b = 2.2500000001 where id = 1")  # type: ignore[attr-defined]
    code, found = diff_json(both, "pg:shop.mixed", "duck:shop.mixed", "--key", "id")
    assert code == 1
    assert found["samples"]["changed"] == [
        {"key": {"id": "1"}, "columns": {"b": ["2.25", "2.2500000001"]}}
    ]


def test_state_compares_a_model_with_its_build_by_another_invocation(
    both: Project, tmp_path: Path
) -> None:
    import shutil

    assert both.cli("dvt", "run", "--target", "duck").returncode == 0  # "prod", on DuckDB
    shutil.copytree(both.root / "target", tmp_path / "prod")
    assert both.cli("dvt", "run").returncode == 0  # "dev", on PostgreSQL
    prod = str(tmp_path / "prod")
    code, found = diff_json(both, "totals", "--state", prod, "--key", "id")
    assert (code, found["identical"]) == (0, True), found
    assert (found["a"]["target"], found["b"]["target"]) == ("pg", "duck")
    assert found["b"]["relation"] == '"lake"."lake"."totals"'
    assert found["b"]["name"] == f"totals (built by {prod})"
    duck_sql(both.duck_file, "update shop.orders set amount = 1 where id = 4")  # type: ignore[attr-defined]
    code, found = diff_json(both, "totals", "--state", prod, "--key", "id")
    assert code == 1
    assert found["samples"]["changed"] == [
        {"key": {"id": "4"}, "columns": {"doubled": ["-0.5", "2"]}}
    ]
    done = both.cli("dvt", "diff", "totals")
    assert done.returncode == 2 and "[DVT108]" in done.stdout


@pytest.mark.sqlite
def test_a_source_only_sqlite_table_is_hashed_as_its_scanner_reads_it(
    both: Project, tmp_path: Path
) -> None:
    from tests.functional.databases import sqlite_table

    shop = tmp_path / "shop.sqlite"
    rows = [(1, "ann", 0.5, "2024-01-01"), (2, "bob", None, "2024-01-02"), (3, None, 3.0, None)]
    sqlite_table(shop, "people", "id integer, name text, score real, day text", rows)
    server: PostgresServer = both.server  # type: ignore[attr-defined]
    server.psql(
        "create table shop.people (id int, name text, score float8, day text);"
        "insert into shop.people values (1, 'ann', 0.5, '2024-01-01'), "
        "(2, 'bob', null, '2024-01-02'), (3, null, 3.0, null), (4, 'dan', 1, '2024-01-04')",
        both.database,  # type: ignore[attr-defined]
    )
    profiles = yaml.safe_load((both.root / "profiles.yml").read_text())
    profiles["test"]["outputs"]["shop"] = {"type": "sqlite", "path": str(shop)}
    (both.root / "profiles.yml").write_text(yaml.safe_dump(profiles))
    code, found = diff_json(both, "pg:shop.people", "shop:people", "--key", "id")
    assert code == 1, found
    assert found["b"]["relation"] == '"src"."main"."people"'
    assert (found["rows_only_in_a"], found["rows_only_in_b"], found["rows_changed"]) == (1, 0, 0)
    assert found["samples"]["only_in_a"] == [
        {"id": "4", "name": "dan", "score": "1", "day": "2024-01-04"}
    ]
