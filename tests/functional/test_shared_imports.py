"""Imports shared by the nodes of one invocation (DESIGN.md section 6): an input several nodes
on one target read is imported there once per distinct filter, with every column some selected
node names, and dropped
when its last reader ends, or at the end of the invocation when a reader never ran; a large
input is imported per node."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.functional.databases import pg_rows
from tests.functional.projects import Project, dbt_project_yml, duck_output, pg_output
from tests.servers.postgres import PostgresServer

pytestmark = [pytest.mark.postgres, pytest.mark.duckdb]

#: Rows of `lake.big`: with two readers and 2 columns, more cells than two readers may share.
BIG_ROWS = 300_000
#: The readers of all of `big`.
WHOLE = ("big_whole_rows", "big_whole_total")

FILES = {
    "dbt_project.yml": dbt_project_yml("shared", "models:\n  shared:\n    +materialized: table\n"),
    "models/sources.yml": """\
        sources:
          - name: lake
            schema: main
            config: {connection: duck}
            tables: [{name: regions}, {name: big}, {name: big_whole, identifier: big}]
          - name: app
            schema: app
            tables: [{name: customers}]
        """,
    # Four readers of `regions`: two with one filter, two with none.
    "models/north.sql": """\
        select c.id, r.name from {{ source('app', 'customers') }} c
        join {{ source('lake', 'regions') }} r on r.id = c.region_id where r.name = 'North'
        """,
    "models/north_codes.sql": """\
        select c.id, r.code from {{ source('app', 'customers') }} c
        join {{ source('lake', 'regions') }} r on r.id = c.region_id where r.name = 'North'
        """,
    "models/per_region.sql": """\
        select r.name, count(c.id) as customers from {{ source('lake', 'regions') }} r
        left join {{ source('app', 'customers') }} c on c.region_id = r.id group by r.name
        """,
    "models/region_codes.sql": """\
        select c.id, r.code from {{ source('app', 'customers') }} c
        join {{ source('lake', 'regions') }} r on r.id = c.region_id
        """,
    # Two readers of `big`, each keeping a few of its rows.
    "models/big_low.sql": """\
        select c.id, b.v from {{ source('app', 'customers') }} c
        join {{ source('lake', 'big') }} b on b.k = c.id where b.k < 3
        """,
    "models/big_high.sql": """\
        select c.id, b.v from {{ source('app', 'customers') }} c
        join {{ source('lake', 'big') }} b on b.k = c.id where b.k >= 3
        """,
    # Two readers of all of `big` (as another source): more cells than two readers may share,
    # but each would import every row of both columns itself.
    "models/big_whole_rows.sql": """\
        select c.id, b.v from {{ source('app', 'customers') }} c
        join {{ source('lake', 'big_whole') }} b on b.k = c.id
        """,
    "models/big_whole_total.sql": """\
        select count(*) as n, sum(b.v) as total from {{ source('lake', 'big_whole') }} b
        left join {{ source('app', 'customers') }} c on c.id = b.k
        """,
}

#: A model that fails, and a reader of `regions` that dbt then skips.
FAILING = {
    "models/broken.sql": "select 1 / 0 as boom",
    "models/after_broken.sql": """\
        select r.name, b.boom from {{ source('lake', 'regions') }} r cross join {{ ref('broken') }} b
        """,
}


@pytest.fixture
def project(postgres: PostgresServer, tmp_path: Path) -> Project:
    database = f"shared_{tmp_path.name[-20:]}".lower().replace("-", "_")
    postgres.create_database(database)
    customers = "(1, 1), (2, 2), (3, 1), (4, 3)"
    regions = "(1, 'North', 'N', 'x'), (2, 'South', 'S', 'y'), (3, 'East', 'E', 'z')"
    postgres.psql(
        "create schema app; create table app.customers (id int, region_id int);"
        f"insert into app.customers values {customers};"
        "create schema lake; create table lake.regions (id int, name text, code text, note text);"
        f"insert into lake.regions values {regions};"
        "create table lake.big as select k, k * 10 as v from generate_series(1, "
        f"{BIG_ROWS}) k",
        database,
    )
    lake = tmp_path / "lake.duckdb"
    with duckdb.connect(str(lake)) as conn:
        conn.execute(
            f"create table regions (id int, name varchar, code varchar, note varchar);"
            f"insert into regions values {regions};"
            f"create table big as select k::int as k, (k * 10)::int as v from range(1, "
            f"{BIG_ROWS + 1}) t(k)"
        )
    project = Project(tmp_path / "project").write(FILES)
    project.profiles(
        {"pg": pg_output(postgres, database, "analytics"), "duck": duck_output(lake)}, "pg"
    )
    project.database = database  # type: ignore[attr-defined]
    return project


def _native(project: Project, postgres: PostgresServer, model: str) -> list[tuple[object, ...]]:
    """The model's SQL run by PostgreSQL over its copies of the DuckDB tables (`lake.*`)."""
    sql = (project.root / "models" / f"{model}.sql").read_text()
    for name in ("regions", "big"):
        sql = sql.replace(f"{{{{ source('lake', '{name}') }}}}", f"lake.{name}")
    sql = sql.replace("{{ source('lake', 'big_whole') }}", "lake.big")
    sql = sql.replace("{{ source('app', 'customers') }}", "app.customers")
    return pg_rows(postgres, project.database, f"({sql}) as native")  # type: ignore[attr-defined]


def _scratch(postgres: PostgresServer, database: str) -> list[tuple[object, ...]]:
    return pg_rows(
        postgres,
        database,
        "(select table_schema, table_name from information_schema.tables "
        "where table_name like '%\\_\\_dvt\\_%') as t",
    )


def _imports(result: object) -> dict[str, list[dict[str, object]]]:
    return {
        r.node.name: r.adapter_response["dvt"]["extractions"]
        for r in result.result.results  # type: ignore[attr-defined]
        if "extractions" in r.adapter_response.get("dvt", {})
    }


def test_readers_of_one_input_share_its_import(project: Project, postgres: PostgresServer) -> None:
    result = project.dvt("run", "--placement", "target", "--threads", "2")
    assert result.success, result.exception
    imports = _imports(result)
    for model in FILES:
        if model.startswith("models/") and model.endswith(".sql"):
            name = Path(model).stem
            assert pg_rows(postgres, project.database, f"analytics.{name}") == _native(  # type: ignore[attr-defined]
                project, postgres, name
            ), name
    regions = {
        model: next(e for e in reads if "regions" in str(e["sql"]))
        for model, reads in imports.items()
        if model in ("north", "north_codes", "per_region", "region_codes")
    }
    assert all(read.get("shared") for read in regions.values())
    # One import per distinct read, with every column, named once for the invocation.
    assert regions["north"]["import"] == regions["north_codes"]["import"]
    assert regions["per_region"]["import"] == regions["region_codes"]["import"]
    assert regions["north"]["import"] != regions["per_region"]["import"]
    assert " WHERE " in str(regions["north"]["sql"]) and '"code"' in str(regions["north"]["sql"])
    assert not any('"note"' in str(read["sql"]) for read in regions.values())  # no model names it
    assert " WHERE " not in str(regions["per_region"]["sql"])
    assert sum(int(read["rows"]) for read in regions.values()) == 1 + 3  # each loaded once
    # `big` holds more cells than two readers may share: each reads its own rows.
    big = [next(e for e in imports[m] if "big" in str(e["sql"])) for m in ("big_low", "big_high")]
    assert not any(read.get("shared") for read in big)
    assert len({read["import"] for read in big}) == 2
    assert all(" WHERE " in str(read["sql"]) for read in big)
    whole = [imports[m][0 if "big" in str(imports[m][0]["sql"]) else 1] for m in WHOLE]
    assert all(read.get("shared") for read in whole)
    assert whole[0]["import"] == whole[1]["import"]
    assert sorted(int(read["rows"]) for read in whole) == [0, BIG_ROWS]  # loaded once
    assert _scratch(postgres, project.database) == []  # type: ignore[attr-defined]


def test_a_shared_import_whose_reader_was_skipped_is_dropped_at_the_end(
    project: Project, postgres: PostgresServer
) -> None:
    project.write(FAILING)
    result = project.dvt("run", "--placement", "target", "--threads", "1")
    assert not result.success
    statuses = {r.node.name: str(r.status) for r in result.result.results}
    assert statuses["broken"] == "error" and statuses["after_broken"] == "skipped"
    assert statuses["north"] == statuses["north_codes"] == statuses["per_region"] == "success"
    assert all(read.get("shared") for read in _imports(result)["north"] if "regions" in read["sql"])
    assert _scratch(postgres, project.database) == []  # type: ignore[attr-defined]


TYPED = """\
    create type mood as enum ('calm', 'busy');
    create table typed as select * from (values
      (1, 10000000000::bigint, 12.345::decimal(12, 3), 1.5::double, 'a''b'::varchar,
       date '2024-02-29', timestamp '2024-01-01 10:00:00.123456',
       timestamptz '2024-01-01 10:00:00+00', true, '\\x00ff'::blob, interval 3 day, [1, 2]::int[]),
      (2, null, null, null, '', null, null, null, null, null, null, [])
    ) t(i, b, d, f, t, dt, ts, tz, bo, bl, iv, l);
    create table odd as select * from (values
      (1, 12345678901234567890123::hugeint, 'calm'::mood, '{"a": 1}'::json,
       '00000000-0000-0000-0000-000000000001'::uuid),
      (2, null, null, null, null)
    ) t(i, h, m, j, u)
    """
#: Per table: the columns compared, and whether a small import of it is copied straight from
#: DuckDB (its types are the ones the engine reads from a stream, as they are).
COMPARED = {
    "typed": ("i, b, d, f, t, dt, ts, tz, bo, bl, iv::text, l, region_id", True),
    "odd": ("i, h, m, j, u::text, region_id", False),
}


@pytest.mark.parametrize("table", sorted(COMPARED))
def test_an_import_from_duckdb_is_written_by_duckdb_itself_or_streamed_the_same(
    project: Project, postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch, table: str
) -> None:
    """A small import from a DuckDB database is encoded there and copied straight into
    PostgreSQL; a large one, or one with a type the engine reads otherwise from a stream
    (HUGEINT, ENUM, JSON, UUID), streams through the engine. Both give the same table: column
    types and values."""
    from dvt.execution import node, session

    with duckdb.connect(str(project.root.parent / "lake.duckdb")) as conn:
        conn.execute(TYPED)
    project.write(
        {
            "models/typed_sources.yml": f"""\
                sources:
                  - name: typed_lake
                    schema: main
                    config: {{connection: duck}}
                    tables: [{{name: {table}}}]
                """,
            "models/typed_copy.sql": f"""\
                select t.*, c.region_id from {{{{ source('typed_lake', '{table}') }}}} t
                left join {{{{ source('app', 'customers') }}}} c on c.id = t.i
                """,
        }
    )
    columns_compared, direct = COMPARED[table]
    streamed: list[str] = []
    register = session.FederationSession.register_stream
    monkeypatch.setattr(
        session.FederationSession,
        "register_stream",
        lambda self, name, reader: (streamed.append(name), register(self, name, reader))[1],
    )
    tables = {}
    for quiet_rows in (node.QUIET_ROWS, 0):
        monkeypatch.setattr(node, "QUIET_ROWS", quiet_rows)
        streamed.clear()
        result = project.dvt("run", "--select", "typed_copy", "--placement", "target")
        assert result.success, result.exception
        assert bool(streamed) == (quiet_rows == 0 or not direct)
        (read,) = _imports(result)["typed_copy"]
        assert read["rows"] == 2
        columns = pg_rows(
            postgres,
            project.database,  # type: ignore[attr-defined]
            "(select column_name, data_type from information_schema.columns where "
            "table_schema = 'analytics' and table_name = 'typed_copy' order by ordinal_position)"
            " as c",
        )
        values = pg_rows(
            postgres,
            project.database,  # type: ignore[attr-defined]
            f"(select {columns_compared} from analytics.typed_copy order by i) as v",
        )
        tables[quiet_rows] = (columns, values)
    assert tables[node.QUIET_ROWS] == tables[0]
    columns, values = tables[0]
    if table == "typed":
        assert ("d", "numeric") in columns and ("l", "ARRAY") in columns
        assert values[0][4] == "a'b" and values[1][4] == ""
    else:
        assert values[0][1] == 12345678901234567890123  # no double on the way


def test_a_small_import_is_a_logged_table_and_a_large_one_unlogged(
    project: Project, postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unlogged table costs PostgreSQL more to create than the log of a few rows does: an
    import estimated small (`Connector.logged_cells`) is a plain table, a large one unlogged."""
    from dvt.connectors.postgres import PostgresConnector

    persistence: dict[str, str] = {}
    stage = PostgresConnector.stage

    def stage_and_look(self: PostgresConnector, engine_sql: str, relation: Any, **kw: Any) -> int:
        rows = stage(self, engine_sql, relation, **kw)
        table = self.table(relation).sql(dialect="postgres")
        ((kind,),) = pg_rows(
            postgres,
            project.database,  # type: ignore[attr-defined]
            f"(select relpersistence::text from pg_class where oid = '{table}'::regclass) as p",
        )
        persistence[relation.name.split("__")[0]] = kind
        return rows

    monkeypatch.setattr(PostgresConnector, "stage", stage_and_look)
    result = project.dvt("run", "--select", "north", "big_low", "--placement", "target")
    assert result.success, result.exception
    assert persistence == {"north": "p", "big_low": "u"}  # regions: 3 rows; big: 300,000
    for name in ("north", "big_low"):
        assert pg_rows(postgres, project.database, f"analytics.{name}") == _native(  # type: ignore[attr-defined]
            project, postgres, name
        )


def test_plan_says_which_reads_the_selected_nodes_would_share(project: Project) -> None:
    readers = ("north", "north_codes", "per_region", "big_low", "big_high")
    planned = project.dvt("plan", "--output", "json", "--placement", "target", "-s", *readers)
    assert planned.success, planned.exception
    rows = {r["unique_id"].split(".")[-1]: r for r in map(json.loads, planned.result)}
    regions = {
        name: next(e for e in rows[name]["extractions"] if "regions" in e["sql"])
        for name in ("north", "north_codes", "per_region")
    }
    assert all(read.get("shared") for read in regions.values())
    assert regions["north"]["sql"] == regions["north_codes"]["sql"]  # one import, every column
    assert '"code"' in regions["north"]["sql"] and " WHERE " in regions["north"]["sql"]
    big = [next(e for e in rows[m]["extractions"] if "big" in e["sql"]) for m in readers[3:]]
    assert not any(read.get("shared") for read in big)  # too large to share
    alone = project.dvt("plan", "--output", "json", "--placement", "target", "-s", "north")
    assert alone.success, alone.exception
    (row,) = map(json.loads, alone.result)
    assert not any(e.get("shared") for e in row["extractions"])  # no other reader selected
    text = project.dvt("plan", "--placement", "target", "-s", "north", "north_codes")
    assert text.success, text.exception
    assert "import from duck (shared, every column named): SELECT" in "\n".join(text.result)
