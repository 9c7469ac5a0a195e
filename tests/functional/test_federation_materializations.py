"""A federated table behaves as the same model pushed down: hooks, grants, `persist_docs`,
indexes, contracts and `unlogged` give the same relation, on PostgreSQL and DuckDB targets.

Both placements are checked. On the target, dbt's materialization runs the model's own SQL over
the imports. In the engine, most federated tables are the staged table renamed into place
(`StageAdoption`); a contract or any other call dbt's `create_table_as` must make itself still
copies the stage.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.functional.databases import duck_rows, pg_relations, pg_rows, sqlite_table
from tests.functional.projects import Project, dbt_project_yml, duck_output, pg_output
from tests.servers.postgres import PostgresServer

pytestmark = [pytest.mark.postgres, pytest.mark.duckdb, pytest.mark.sqlite]

ITEMS = [(1, "pen", "1.50"), (2, "ink", "12.00"), (3, "pad", None)]

#: One model body, read from the PostgreSQL source (pushdown) or the SQLite one (federation).
TABLE_MODEL = """\
{{{{ config(
    materialized='table',
    pre_hook="insert into audit.hooks values ('pre {{{{ this.name }}}}', -1)",
    post_hook="insert into audit.hooks select 'post {{{{ this.name }}}}', count(*) from {{{{ this }}}}",
    grants={{'select': ['{role}']}},
    persist_docs={{'relation': true, 'columns': true}},
    indexes=[{{'columns': ['id'], 'unique': true}}],
    placement=var('placement', 'auto'),
) }}}}
select id, name, price from {{{{ source('{source}', 'items') }}}}
"""

#: Casts give the contract's types whichever database the rows come from, as they would have to
#: on pushdown over a source of other types.
CONTRACT_MODEL = """\
{{{{ config(materialized='table') }}}}
select cast(id as integer) as id, name, cast(price as numeric(10, 2)) as price
from {{{{ source('{source}', 'items') }}}}
"""

CONTRACT_COLUMNS = """\
      - name: id
        data_type: integer
        constraints: [{type: not_null}]
      - name: name
        data_type: text
      - name: price
        data_type: numeric(10, 2)
"""


def _schema_yml(models: list[str], contracted: list[str]) -> str:
    entries = []
    for name in models:
        entries.append(
            f"  - name: {name}\n    description: Items sold\n    columns:\n"
            "      - name: id\n        description: The item\n"
        )
    for name in contracted:
        entries.append(
            f"  - name: {name}\n    config: {{contract: {{enforced: true}}}}\n"
            f"    columns:\n{CONTRACT_COLUMNS}"
        )
    return "models:\n" + "".join(entries)


@pytest.fixture
def items(postgres: PostgresServer, tmp_path: Path) -> tuple[str, Path, str]:
    """A database with raw.items and an audit table, the same rows in SQLite, and a role."""
    database = f"mat_{tmp_path.name[-20:]}".lower().replace("-", "_")
    role = f"reader_{database}"
    postgres.create_database(database)
    values = ", ".join(f"({i}, '{n}', {p or 'null'})" for i, n, p in ITEMS)
    postgres.psql(
        f"create role {role}; create schema raw; create schema audit; "
        "create table raw.items (id int, name text, price numeric(10,2)); "
        f"insert into raw.items values {values}; "
        "create table audit.hooks (event text, row_count bigint)",
        database,
    )
    shop = tmp_path / "shop.sqlite"
    sqlite_table(shop, "items", "id integer, name text, price numeric", ITEMS)
    return database, shop, role


SOURCES = """\
sources:
  - name: pgraw
    schema: raw
    tables: [{name: items}]
  - name: lite
    config: {connection: shop}
    tables: [{name: items}]
"""


def _query(server: PostgresServer, database: str, sql: str) -> list[tuple[Any, ...]]:
    import psycopg2

    with psycopg2.connect(server.dsn_for(database)) as conn, conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def _pg_table_facts(server: PostgresServer, database: str, role: str, name: str) -> dict[str, Any]:
    """What dbt's materialization set on `analytics.<name>`, named so push and fed compare."""
    relation = f"'analytics.{name}'::regclass"
    (facts,) = _query(
        server,
        database,
        f"select obj_description({relation}), col_description({relation}, 1), "
        f"has_table_privilege('{role}', {relation}, 'select'), "
        f"(select relpersistence from pg_class where oid = {relation}), "
        f"(select count(*) from pg_index where indrelid = {relation} and indisunique)",
    )
    hooks = _query(
        server,
        database,
        f"select replace(event, '{name}', 'M'), row_count from audit.hooks "
        f"where event like '% {name}' order by ctid",
    )
    return {"facts": facts, "hooks": hooks}


def _columns(server: PostgresServer, database: str, name: str) -> list[tuple[Any, ...]]:
    return _query(
        server,
        database,
        "select column_name, data_type, numeric_precision, numeric_scale, is_nullable "
        "from information_schema.columns where table_schema = 'analytics' "
        f"and table_name = '{name}' order by ordinal_position",
    )


def _project(
    tmp_path: Path,
    postgres: PostgresServer,
    items: tuple[str, Path, str],
    models: dict[str, str],
    lake: Path | None = None,
) -> Project:
    """The models over both sources, on the `pg` target (and a DuckDB `duck` one with `lake`)."""
    database, shop, _ = items
    files = {"dbt_project.yml": dbt_project_yml("mat"), "models/sources.yml": SOURCES}
    project = Project(tmp_path / "project").write(
        {**files, **{f"models/{name}": text for name, text in models.items()}}
    )
    outputs = {
        "pg": pg_output(postgres, database, "analytics"),
        "shop": {"type": "sqlite", "path": str(shop)},
    }
    if lake is not None:
        outputs["duck"] = duck_output(lake, "lake")
    return project.profiles(outputs, "pg")


def _renamed_into_place(project: Project, model: str) -> bool:
    """Whether the debug log shows the model's stage renamed to dbt's new relation."""
    log = (project.root / "logs" / "dbt.log").read_text()
    return re.search(rf'"{model}__dvt_stage_\w+" rename to "{model}__dbt_tmp"', log) is not None


PLACEMENTS = pytest.mark.parametrize("placement", ["target", "engine"])


@PLACEMENTS
def test_federated_table_on_postgres_matches_pushdown(
    postgres: PostgresServer, tmp_path: Path, items: tuple[str, Path, str], placement: str
) -> None:
    database, _, role = items
    project = _project(
        tmp_path,
        postgres,
        items,
        {
            "push_items.sql": TABLE_MODEL.format(role=role, source="pgraw"),
            "fed_items.sql": TABLE_MODEL.format(role=role, source="lite"),
            "fed_unlogged.sql": "{{ config(materialized='table', unlogged=true, "
            "placement=var('placement')) }}\n"
            "select id from {{ source('lite', 'items') }}\n",
            "push_contract.sql": CONTRACT_MODEL.format(source="pgraw"),
            "fed_contract.sql": CONTRACT_MODEL.format(source="lite"),
            "schema.yml": _schema_yml(
                ["push_items", "fed_items"], ["push_contract", "fed_contract"]
            ),
        },
    )
    for _ in range(2):  # a first build, then a replacement of existing tables
        result = project.dvt("run", "--vars", f"placement: {placement}")
        assert result.success, result.exception
        assert all(r.status == "success" for r in result.result.results)

    expected = sorted(((i, n, p and Decimal(p)) for i, n, p in ITEMS), key=repr)
    for name in ("push_items", "fed_items", "push_contract", "fed_contract"):
        assert pg_rows(postgres, database, f"analytics.{name}") == expected, name

    push = _pg_table_facts(postgres, database, role, "push_items")
    fed = _pg_table_facts(postgres, database, role, "fed_items")
    assert push["facts"] == ("Items sold", "The item", True, "p", 1)
    assert fed == push
    assert push["hooks"] == [("pre M", -1), ("post M", 3)] * 2
    (persistence,) = _query(
        postgres,
        database,
        "select relpersistence from pg_class where oid = 'analytics.fed_unlogged'::regclass",
    )[0]
    assert persistence == "u"

    assert (
        _columns(postgres, database, "fed_contract")
        == _columns(postgres, database, "push_contract")
        == [
            ("id", "integer", 32, 0, "NO"),
            ("name", "text", None, None, "YES"),
            ("price", "numeric", 10, 2, "YES"),
        ]
    )

    # In the engine, plain federated tables were renamed into place; the contract's (placed on
    # its target: its casts of floats are not provably the same in the engine) by dbt.
    engine = placement == "engine"
    assert _renamed_into_place(project, "fed_items") is engine
    assert _renamed_into_place(project, "fed_unlogged") is engine
    assert not _renamed_into_place(project, "fed_contract")
    assert not [n for n in pg_relations(postgres, database, "analytics") if "__dvt_" in n]

    results = json.loads((project.root / "target" / "run_results.json").read_text())["results"]
    by_id = {r["unique_id"]: r for r in results}
    assert by_id["model.mat.fed_items"]["adapter_response"]["rows_affected"] == 3
    assert by_id["model.mat.fed_items"]["adapter_response"]["dvt"]["rows"] == 3


def test_federated_contract_violation_fails_and_keeps_nothing(
    postgres: PostgresServer, tmp_path: Path, items: tuple[str, Path, str]
) -> None:
    database = items[0]
    project = _project(
        tmp_path,
        postgres,
        items,
        {
            "fed_contract.sql": "{{ config(materialized='table') }}\n"
            "select id, name from {{ source('lite', 'items') }}\n",
            "schema.yml": _schema_yml([], ["fed_contract"]),
        },
    )
    result = project.dvt("run")
    assert not result.success
    (node,) = result.result.results
    assert node.status == "error"
    assert "contract" in node.message.lower() and "price" in node.message
    assert pg_relations(postgres, database, "analytics") == {}


@PLACEMENTS
def test_federated_table_on_duckdb_keeps_hooks_docs_and_contract(
    postgres: PostgresServer, tmp_path: Path, items: tuple[str, Path, str], placement: str
) -> None:
    import duckdb

    lake = tmp_path / "lake.duckdb"
    project = _project(
        tmp_path,
        postgres,
        items,
        {
            "audit.sql": "{{ config(materialized='table', target='duck') }}\n"
            "select 'start' as event, 0::bigint as row_count\n",
            "fed_items.sql": """\
                {{ config(materialized='table', target='duck', persist_docs={'relation': true, 'columns': true},
                          post_hook="insert into {{ ref('audit') }} select 'post', count(*) from {{ this }}") }}
                select id, name, price from {{ source('pgraw', 'items') }}
                """,
            "fed_contract.sql": "{{ config(materialized='table', target='duck') }}\n"
            "select id, name, price from {{ source('pgraw', 'items') }}\n",
            "schema.yml": _schema_yml(["fed_items"], ["fed_contract"]),
        },
        lake,
    )
    for _ in range(2):
        result = project.dvt("run", "--placement", placement)
        assert result.success, result.exception

    with duckdb.connect(str(lake)) as conn:
        (comment,) = conn.execute(
            "select comment from duckdb_tables() where table_name = 'fed_items'"
        ).fetchone()
        (column_comment,) = conn.execute(
            "select comment from duckdb_columns() where table_name = 'fed_items' "
            "and column_name = 'id'"
        ).fetchone()
        contract = conn.execute(
            "select column_name, data_type, is_nullable from information_schema.columns "
            "where table_name = 'fed_contract' order by ordinal_position"
        ).fetchall()
        tables = [r[0] for r in conn.execute("select table_name from duckdb_tables()").fetchall()]
    assert (comment, column_comment) == ("Items sold", "The item")
    assert duck_rows(lake, "lake.lake.audit") == [("post", 3), ("start", 0)]
    assert contract == [
        ("id", "INTEGER", "NO"),
        ("name", "VARCHAR", "YES"),
        ("price", "DECIMAL(10,2)", "YES"),
    ]
    assert len(duck_rows(lake, "lake.lake.fed_contract")) == 3
    assert not [t for t in tables if "__dvt_" in t]
    assert _renamed_into_place(project, "fed_items") is (placement == "engine")
    assert not _renamed_into_place(project, "fed_contract")
