"""Federated incremental models: append, merge and delete+insert, on PostgreSQL and DuckDB
targets, over two runs, read only new rows and give the rows the strategy promises."""

from __future__ import annotations

import datetime as dt
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


#: Every strategy on both targets under both DuckDB placements. Spark computes the same result
#: whatever the target's strategy does with it: each target once, and each strategy once.
INCREMENTAL_CASES = [
    *(
        (strategy, target, placement, "duckdb")
        for strategy in ("append", "merge", "delete+insert")
        for target in ("pg", "duck")
        for placement in ("target", "engine")
    ),
    *(
        pytest.param(strategy, target, "engine", "spark", marks=pytest.mark.spark)
        for strategy, target in (("append", "pg"), ("merge", "duck"), ("delete+insert", "pg"))
    ),
]


@pytest.mark.parametrize(("strategy", "target", "placement", "compute"), INCREMENTAL_CASES)
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


# A federated microbatch model (issue 18): dbt writes each batch's window with its UTC offset
# ('2024-01-02 00:00:00+00:00'); it is pushed into the input's read wherever the source reads it
# as the target does. The target runs in America/New_York, the PostgreSQL input in UTC.
EVENTS = [
    (1, dt.datetime(2024, 1, 1, 0, 0)),  # the first batch's start: in it
    (2, dt.datetime(2024, 1, 1, 23, 59, 59, 999999)),
    (3, dt.datetime(2024, 1, 2, 0, 0)),
    (4, dt.datetime(2024, 1, 2, 3, 0)),  # still January 1st in New York
    (5, dt.datetime(2024, 1, 3, 12, 0)),
    (6, dt.datetime(2023, 12, 31, 23, 0)),  # before the first batch
    (7, dt.datetime(2024, 1, 4, 0, 0)),  # the last batch's end: in none
    (8, None),
]
BATCH_ROWS = [2, 2, 1]  # rows of each day's window, 2024-01-01 to 2024-01-03
MICROBATCH = """\
{{{{ config(materialized='incremental', incremental_strategy='microbatch', event_time='event_time',
          batch_size='day', begin='2024-01-01', unique_key='id') }}}}
select id, event_time, id * 1.5 as amount from {{{{ source('{source}', 'events') }}}}
"""


def _events(zoned: bool) -> list[tuple[object, ...]]:
    utc = dt.UTC if zoned else None
    return [(i, t.replace(tzinfo=utc) if t and utc else t) for i, t in EVENTS]


@pytest.mark.parametrize(
    ("kind", "column_type", "pushed"),
    [
        ("postgres", "timestamp", True),
        ("postgres", "timestamptz", True),
        ("duckdb", "TIMESTAMP", True),
        ("duckdb", "TIMESTAMPTZ", True),
        ("sqlite", "timestamp", True),
        pytest.param("mysql", "datetime(6)", False, marks=pytest.mark.mysql),
    ],
)
def test_microbatch_reads_only_each_batchs_window(
    postgres: PostgresServer,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    kind: str,
    column_type: str,
    pushed: bool,
) -> None:
    import duckdb

    zoned = column_type.lower() == "timestamptz"
    rows = _events(zoned)
    database = f"mb_{tmp_path.name[-20:]}".lower().replace("-", "_")
    postgres.create_database(database)
    pg_type = "timestamptz" if zoned else "timestamp"
    postgres.psql(
        f"alter database {database} set timezone = 'America/New_York'; create schema native;"
        f"create table native.events (id int, event_time {pg_type})",
        database,
    )
    import psycopg2

    with psycopg2.connect(postgres.dsn_for(database)) as conn, conn.cursor() as cur:
        cur.executemany("insert into native.events values (%s, %s)", rows)
    schema, outputs = "app", {"pg": pg_output(postgres, database, "analytics")}
    if kind == "postgres":
        other = f"{database}_in"
        postgres.create_database(other)
        postgres.psql(f"alter database {other} set timezone = 'UTC'; create schema app", other)
        with psycopg2.connect(postgres.dsn_for(other)) as conn, conn.cursor() as cur:
            cur.execute(f"create table app.events (id int, event_time {column_type})")
            cur.executemany("insert into app.events values (%s, %s)", rows)
        outputs["events_db"] = pg_output(postgres, other, "analytics")
    elif kind == "duckdb":
        schema, lake = "main", tmp_path / "lake.duckdb"
        with duckdb.connect(str(lake)) as conn:
            conn.execute(f"create table events (id int, event_time {column_type})")
            conn.executemany("insert into events values (?, ?)", rows)
        outputs["events_db"] = duck_output(lake)
    elif kind == "sqlite":
        schema, app = "main", tmp_path / "app.sqlite"
        texts = [(i, t.isoformat(sep=" ") if t else None) for i, t in rows]
        sqlite_table(app, "events", f"id integer, event_time {column_type}", texts)
        outputs["events_db"] = {"type": "sqlite", "path": str(app)}
    else:
        mariadb = request.getfixturevalue("mariadb")
        schema = database
        mariadb.sql(
            f"create database {schema}; create table {schema}.events (id int, "
            f"event_time {column_type}); insert into {schema}.events values "
            + ", ".join(f"({i}, {repr(str(t)) if t else 'null'})" for i, t in rows)
        )
        outputs["events_db"] = {
            "type": "mysql",
            "host": mariadb.host,
            "port": mariadb.port,
            "user": mariadb.user,
            "password": mariadb.password,
            "database": schema,
        }
    project = Project(tmp_path / "project").write(
        {
            "dbt_project.yml": dbt_project_yml("mb"),
            "models/sources.yml": f"""\
                sources:
                  - name: app
                    schema: {schema}
                    config: {{connection: events_db, event_time: event_time}}
                    tables: [{{name: events}}]
                  - name: native
                    schema: native
                    config: {{event_time: event_time}}
                    tables: [{{name: events}}]
                """,
            "models/daily.sql": MICROBATCH.format(source="app"),
            "models/daily_native.sql": MICROBATCH.format(source="native"),
        }
    )
    project.profiles(outputs, "pg")
    window = ("--event-time-start", "2024-01-01", "--event-time-end", "2024-01-04")
    ran = project.dvt("--debug", "run", *window)
    assert ran.success, ran.exception
    by_name = {r.node.name: r for r in ran.result.results}
    dvt = by_name["daily"].adapter_response["dvt"]
    assert dvt["path"] == "federation"
    batches = dvt["batches"]
    assert [b["batch"][:10] for b in batches] == ["2024-01-01", "2024-01-02", "2024-01-03"]
    reads = [b["extractions"] for b in batches]
    assert all(len(r) == 1 for r in reads), reads
    log = (project.root / "logs" / "dbt.log").read_text()
    if pushed:  # each batch imported its window's rows only, read with the window
        assert [r[0]["rows"] for r in reads] == BATCH_ROWS
        assert "'2024-01-02 00:00:00+00:00'" in reads[1][0]["sql"], reads[1][0]["sql"]
        assert "predicate kept in the query" not in log
    else:  # MySQL 8 reads the offset in its session's zone: every batch reads the input whole
        assert [r[0]["rows"] for r in reads] == [len(EVENTS)] * 3
        assert "[DVT005]" in log and "predicate kept in the query" in log
    assert dvt["rows"] == sum(BATCH_ROWS)
    # The answer of the same model pushed down over a copy of the input on the target.
    built = pg_rows(postgres, database, "analytics.daily")
    assert built == pg_rows(postgres, database, "analytics.daily_native")
    assert sorted(r[0] for r in built) == [1, 2, 3, 4, 5]
