"""PostgreSQL loses the session that loads an import (`COPY ... FROM STDIN` into a `__dvt_`
relation): the backend is terminated, or the server stopped with `-m fast`. The node that was
loading fails; the process does not (DuckDB's postgres scanner used to abort it, exit 134,
rolling back on the dead connection): the other nodes finish, run_results.json is written, the
exit code is dbt's, and no `__dvt_` relation remains where the database is reachable."""

from __future__ import annotations

import hashlib
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dvt import invocation
from dvt.connectors.postgres import PostgresConnector
from tests.functional.databases import pg_relations, pg_rows
from tests.functional.projects import Project, dbt_project_yml, duck_output, pg_output
from tests.servers.postgres import PostgresServer

pytestmark = [pytest.mark.postgres, pytest.mark.duckdb]

FILES = {
    "dbt_project.yml": dbt_project_yml(
        "drops", "models:\n  drops:\n    +target: wh\n    +materialized: table\n"
    ),
    "models/sources.yml": """\
        sources:
          - name: app
            schema: app
            config: {connection: src}
            tables: [{name: events}, {name: kinds}]
        """,
    "models/labels.sql": "{{ config(target='duck') }} select 1 as id, 'one' as label",
    # Its import of app.events is the load the test cuts.
    "models/joined.sql": """\
        {{ config(placement='target') }}
        select e.id, e.kind, l.label from {{ source('app', 'events') }} e
        left join {{ ref('labels') }} l on l.id = e.id
        """,
    "models/other.sql": """\
        {{ config(placement='target') }}
        select k.kind, l.label from {{ source('app', 'kinds') }} k
        join {{ ref('labels') }} l on l.id = k.id
        """,
    "models/independent.sql": "{{ config(target='duck') }} select 42 as answer",
}

#: Two million rows: their COPY into the import takes seconds, and the test cuts it.
BIG_EVENTS = (
    "drop table app.events; create view app.events as "
    "select g as id, repeat('x', 40) || g as kind from generate_series(1, 2000000) g"
)
#: Enough rows that their COPY outlasts the time a signal can take to be handled (2,000,000
#: rows load in 1.5 s on a fast machine, and a SIGINT was once handled after 2 s).
LONG_EVENTS = (
    "create or replace view app.events as "
    "select g as id, repeat('x', 40) || g as kind from generate_series(1, 8000000) g"
)


def _project(
    tmp_path: Path,
    source: PostgresServer,
    warehouse: PostgresServer,
    files: dict[str, str] | None = None,
    *,
    big: bool = True,
) -> Project:
    """Sources on `source`, models on `warehouse` (database wh), a DuckDB file beside; built
    once, then app.events changed (made `big`, or else one new row)."""
    source_db = _source_database(tmp_path)
    source.create_database(source_db)
    source.psql(
        "create schema app; create table app.events as select 1 as id, 'old' as kind; "
        "create table app.kinds as select 1 as id, 'k' as kind",
        source_db,
    )
    warehouse.create_database("wh")
    project = Project(tmp_path / "project").write({**FILES, **(files or {})})
    project.profiles(
        {
            "wh": pg_output(warehouse, "wh", "public"),
            "src": pg_output(source, source_db, "public"),
            "duck": duck_output(tmp_path / "lake.duckdb", "lake"),
        },
        "duck",
    )
    first = project.cli("dvt", "run")
    assert first.returncode == 0, first.stdout[-3000:]
    source.psql(BIG_EVENTS if big else "update app.events set kind = 'new'", source_db)
    return project


def _source_database(tmp_path: Path) -> str:
    return f"src_{hashlib.sha1(str(tmp_path).encode()).hexdigest()[:12]}"


def _loading_backends(server: PostgresServer, relation_prefix: str) -> list[int]:
    """Backends of database wh running a COPY into a relation whose name starts so."""
    found = server.psql(
        "select pid from pg_stat_activity where datname = 'wh' and state = 'active' "
        f"and query ilike 'copy %{relation_prefix}%from stdin%'"
    )
    return [int(pid) for pid in found.split()]


def _run_cutting_the_load(
    project: Project,
    server: PostgresServer,
    cut: Callable[[subprocess.Popen[str]], None],
    exit_code: int = 1,
    loading: str = "joined__dvt_in",
) -> str:
    """`dvt run --threads 2`; once a relation of `joined` (its import) is being COPYed into
    wh, `cut(the run's process)`. Returns what the run printed; the run must end within two
    minutes, with `exit_code`."""
    code = "import sys; from dvt.cli.main import cli; sys.exit(cli())"
    folders = ["--project-dir", str(project.root), "--profiles-dir", str(project.root)]
    child = subprocess.Popen(
        [sys.executable, "-c", code, "run", "--threads", "2", *folders],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not _loading_backends(server, loading):
        assert child.poll() is None and time.monotonic() < deadline, child.communicate()[0]
        time.sleep(0.1)
    cut(child)
    try:
        output, _ = child.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        child.kill()
        output = child.communicate()[0] + "\n(killed: still running two minutes after the cut)"
    assert child.returncode == exit_code, output[-3000:]
    return output


def _assert_only_joined_failed(project: Project, output: str) -> None:
    assert "terminate called" not in output and "Fatal Python error" not in output, output
    statuses = project.statuses()  # run_results.json was written
    assert statuses["model.drops.joined"] == "error", output[-3000:]
    assert statuses["model.drops.independent"] == "success"
    assert statuses["model.drops.labels"] == "success"
    assert "DVT104" in output and "model.drops.joined" in output and "'wh'" in output


def test_import_backend_terminated(postgres: PostgresServer, tmp_path: Path) -> None:
    """`pg_terminate_backend` on the COPY: `joined` fails, `other` (federated into the same
    target, in the same engine, possibly at the same moment) succeeds; nothing is left."""
    project = _project(tmp_path, postgres, postgres)

    def terminate(_: object) -> None:
        for pid in _loading_backends(postgres, "joined__dvt_in"):
            postgres.psql(f"select pg_terminate_backend({pid})")

    output = _run_cutting_the_load(project, postgres, terminate)
    _assert_only_joined_failed(project, output)
    assert project.statuses()["model.drops.other"] == "success", output[-3000:]
    assert pg_rows(postgres, "wh", "public.other") == [("k", "one")]
    assert pg_rows(postgres, "wh", "public.joined") == [(1, "old", "one")]
    assert not [t for t in pg_relations(postgres, "wh", "public") if "__dvt_" in t]


def test_target_stopped_fast_during_an_import(
    own_postgres: PostgresServer, postgres: PostgresServer, tmp_path: Path
) -> None:
    """`pg_ctl stop -m fast` while the COPY runs: the target's nodes fail, the DuckDB ones
    finish; once the target is back the old table is there and the cut import is not (it
    rolled back with the server). What another node had loaded before the stop could not be
    dropped while the server was down: the next run writing to the target sweeps it."""
    project = _project(tmp_path, postgres, own_postgres)
    output = _run_cutting_the_load(
        project, own_postgres, lambda _: own_postgres.stop(remove=False, mode="fast")
    )
    own_postgres.restart()
    _assert_only_joined_failed(project, output)
    assert own_postgres.password not in output
    assert pg_rows(own_postgres, "wh", "public.joined") == [(1, "old", "one")]
    left = [t for t in pg_relations(own_postgres, "wh", "public") if "__dvt_" in t]
    assert not [t for t in left if t.startswith("joined__dvt_in")], left
    swept = project.cli("dvt", "run", "--select", "other")
    assert swept.returncode == 0, swept.stdout[-3000:]
    assert not [t for t in pg_relations(own_postgres, "wh", "public") if "__dvt_" in t]


def test_a_signal_during_an_import(
    own_postgres: PostgresServer, postgres: PostgresServer, tmp_path: Path
) -> None:
    """Ctrl-C while the COPY runs: the load is cancelled (dvt exits as dbt does on Ctrl-C, in
    seconds), the old table stays, and nothing of the run is left behind."""
    project = _project(tmp_path, postgres, own_postgres)
    postgres.psql(LONG_EVENTS, _source_database(tmp_path))
    started: list[float] = []

    def interrupt(child: subprocess.Popen[str]) -> None:
        started.append(time.monotonic())
        child.send_signal(signal.SIGINT)

    output = _run_cutting_the_load(project, own_postgres, interrupt, exit_code=2)
    assert time.monotonic() - started[0] < 15, output[-3000:]
    assert "terminate called" not in output and "Fatal Python error" not in output, output
    assert pg_rows(own_postgres, "wh", "public.joined") == [(1, "old", "one")]
    assert not _loading_backends(own_postgres, "joined__dvt_in")
    assert not [t for t in pg_relations(own_postgres, "wh", "public") if "__dvt_" in t]


def test_a_signal_as_an_import_ends(
    own_postgres: PostgresServer,
    postgres: PostgresServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ctrl-C the moment an import's COPY has ended (nothing left to cancel): the node stops
    before its write, with DVT104, so the old table stays; no `__dvt_` relation is left."""
    project = _project(tmp_path, postgres, own_postgres, big=False)
    stage = PostgresConnector.stage

    def stage_then_interrupt(self: PostgresConnector, *args: Any, **kwargs: Any) -> int:
        rows = stage(self, *args, **kwargs)
        invocation.get().interrupt()
        return rows

    monkeypatch.setattr(PostgresConnector, "stage", stage_then_interrupt)
    result = project.dvt("run", "--select", "joined")
    assert not result.success
    assert project.statuses()["model.drops.joined"] == "error"
    message = project.artifact("run_results.json")["results"][0]["message"]
    assert "DVT104" in message and "interrupted" in message, message
    assert pg_rows(own_postgres, "wh", "public.joined") == [(1, "old", "one")]
    assert not [t for t in pg_relations(own_postgres, "wh", "public") if "__dvt_" in t]


def test_stage_backend_terminated(
    own_postgres: PostgresServer, postgres: PostgresServer, tmp_path: Path
) -> None:
    """The same cut in the engine placement, whose result is COPYed into a stage: `joined`
    fails, the rest finish, the old table stays and the stage is gone."""
    engine_joined = FILES["models/joined.sql"].replace("placement='target'", "placement='engine'")
    project = _project(tmp_path, postgres, own_postgres, {"models/joined.sql": engine_joined})

    def terminate(_: object) -> None:
        for pid in _loading_backends(own_postgres, "joined__dvt_stage"):
            own_postgres.psql(f"select pg_terminate_backend({pid})")

    output = _run_cutting_the_load(project, own_postgres, terminate, loading="joined__dvt_stage")
    _assert_only_joined_failed(project, output)
    assert pg_rows(own_postgres, "wh", "public.joined") == [(1, "old", "one")]
    assert not [t for t in pg_relations(own_postgres, "wh", "public") if "__dvt_" in t]
