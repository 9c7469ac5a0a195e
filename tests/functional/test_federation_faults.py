"""Federation faults: a source that dies mid-read, and SQL the source rejects, fail only the
affected model, with a clear error, and leave the previous target table as it was."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from tests.functional.databases import duck_rows, pg_relations, pg_rows
from tests.functional.projects import Project, dbt_project_yml, duck_output, pg_output
from tests.servers.postgres import PostgresServer

pytestmark = [pytest.mark.postgres, pytest.mark.duckdb]

FILES = {
    "dbt_project.yml": dbt_project_yml(
        "faults", "models:\n  faults:\n    +target: duck\n    +materialized: table\n"
    ),
    "models/sources.yml": """\
        sources:
          - name: app
            schema: app
            config: {connection: pg}
            tables: [{name: events}]
        """,
    "models/events_copy.sql": "select id, kind from {{ source('app', 'events') }} where id > 0",
    "models/events_child.sql": "select count(*) as n from {{ ref('events_copy') }}",
    "models/independent.sql": "select 42 as answer",
}


def _project(
    tmp_path: Path, server: PostgresServer, extra: dict[str, str] | None = None
) -> Project:
    server.create_database("app")
    server.psql(
        "create schema app; create table app.events as select 1 as id, 'old' as kind", "app"
    )
    project = Project(tmp_path / "project").write({**FILES, **(extra or {})})
    project.profiles(
        {
            "duck": duck_output(tmp_path / "lake.duckdb", "lake"),
            "pg": pg_output(server, "app", "public"),
        },
        "duck",
    )
    first = project.cli("dvt", "run")  # a process of its own: it must not keep the file locked
    assert first.returncode == 0, first.stdout[-3000:]
    return project


def _slow_source(server: PostgresServer, rows: int, seconds_per_row: float) -> None:
    """Replace app.events by a view that streams its rows slowly (about ten to twenty seconds)."""
    server.psql(
        "drop table app.events; create view app.events as select g as id, "
        f"case when pg_sleep({seconds_per_row})::text = 'never' then 'x' else 'new' end as kind "
        f"from generate_series(1, {rows}) g",
        "app",
    )


def _tables(path: Path) -> set[str]:
    with duckdb.connect(str(path)) as conn:
        return {
            r[0]
            for r in conn.execute("select table_name from information_schema.tables").fetchall()
        }


def test_source_stopped_mid_extraction(own_postgres: PostgresServer, tmp_path: Path) -> None:
    project = _project(tmp_path, own_postgres)
    _slow_source(own_postgres, rows=2000, seconds_per_row=0.005)
    child, seen = _started(project, "dvt", "events_copy")
    time.sleep(1.5)  # well inside the ten-second read
    own_postgres.stop(remove=False)
    output, _ = child.communicate(timeout=120)
    output = seen + output
    assert child.returncode == 1, output
    statuses = project.statuses()
    assert statuses["model.faults.events_copy"] == "error"
    assert statuses["model.faults.events_child"] == "skipped"
    assert statuses["model.faults.independent"] == "success"
    assert "events_copy" in output and "DVT104" in output
    duck_file = tmp_path / "lake.duckdb"
    assert duck_rows(duck_file, "lake.lake.events_copy") == [(1, "old")]
    assert not [t for t in _tables(duck_file) if "__dvt_" in t]


def test_wrong_column_names_the_model(own_postgres: PostgresServer, tmp_path: Path) -> None:
    project = _project(tmp_path, own_postgres)
    project.write(
        {"models/events_copy.sql": "select id, no_such_column from {{ source('app', 'events') }}"}
    )
    result = project.cli("dvt", "run")
    assert result.returncode == 1
    assert "events_copy" in result.stdout and "no_such_column" in result.stdout
    assert project.statuses()["model.faults.independent"] == "success"
    assert duck_rows(tmp_path / "lake.duckdb", "lake.lake.events_copy") == [(1, "old")]
    # Fixed, `dvt retry` reruns only what failed or was skipped, federated again.
    own_postgres.psql("update app.events set kind = 'fixed'", "app")
    project.write({"models/events_copy.sql": "select id, kind from {{ source('app', 'events') }}"})
    retried = project.cli("dvt", "retry")
    assert retried.returncode == 0, retried.stdout[-3000:]
    assert set(project.statuses()) == {"model.faults.events_copy", "model.faults.events_child"}
    assert duck_rows(tmp_path / "lake.duckdb", "lake.lake.events_copy") == [(1, "fixed")]


def test_a_wrong_password_never_reaches_output_logs_or_artifacts(
    own_postgres: PostgresServer, tmp_path: Path
) -> None:
    project = _project(tmp_path, own_postgres)
    secret = "wrong-pw-that-must-never-print"
    outputs = {
        "duck": duck_output(tmp_path / "lake.duckdb", "lake"),
        "pg": {**pg_output(own_postgres, "app", "public"), "password": secret},
    }
    project.profiles(outputs, "duck")
    result = project.cli("dvt", "--debug", "--log-format-file", "json", "run")
    assert result.returncode == 1
    assert project.statuses()["model.faults.events_copy"] == "error"
    written = [result.stdout, result.stderr]
    for folder in ("target", "logs"):
        written += [
            p.read_text(errors="replace") for p in (project.root / folder).rglob("*") if p.is_file()
        ]
    assert not [text for text in written if secret in text]


def _started(project: Project, tool: str, node: str) -> tuple[subprocess.Popen[str], str]:
    """Start `<tool> run` and return once it prints that `node` started, with what it printed."""
    code = f"import sys; from {tool}.cli.main import cli; sys.exit(cli())"
    args = ["run", "--project-dir", str(project.root), "--profiles-dir", str(project.root)]
    child = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    seen = ""
    for line in child.stdout:
        seen += line
        if "START" in line and node in line:
            return child, seen
    raise AssertionError(f"{node} never started:\n{seen}")


def _interrupted(
    project: Project, tool: str, node: str, sig: signal.Signals = signal.SIGINT
) -> tuple[int, str, float]:
    child, seen = _started(project, tool, node)
    time.sleep(1.5)
    started = time.monotonic()
    child.send_signal(sig)
    output, _ = child.communicate(timeout=120)
    return child.returncode, seen + output, time.monotonic() - started


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_a_federated_load(
    sig: signal.Signals, own_postgres: PostgresServer, tmp_path: Path
) -> None:
    """SIGTERM takes the Ctrl-C path too (plain dbt dies of it at once, exit -15): the engine
    query is cancelled, the stage dropped, and the exit code is dbt's for Ctrl-C."""
    project = _project(tmp_path, own_postgres)
    _slow_source(own_postgres, rows=40000, seconds_per_row=0.0005)
    dvt_code, output, waited = _interrupted(project, "dvt", "events_copy", sig)
    assert waited < 15, output  # the engine query was cancelled, not waited for
    assert "Exited because of keyboard interrupt" in output, output[-3000:]
    duck_file = tmp_path / "lake.duckdb"
    assert duck_rows(duck_file, "lake.lake.events_copy") == [(1, "old")]
    assert not [t for t in _tables(duck_file) if "__dvt_" in t]
    # dbt's own exit code for Ctrl-C, measured on a slow pushdown model.
    dbt_like = Project(tmp_path / "dbt_only").write(
        {
            "dbt_project.yml": dbt_project_yml("faults"),
            "models/slow.sql": "{{ config(materialized='table') }} select pg_sleep(20)::text as slept",
        }
    )
    dbt_like.profiles({"pg": pg_output(own_postgres, "app", "public")}, "pg")
    dbt_code, dbt_output, _ = _interrupted(dbt_like, "dbt", "slow", signal.SIGINT)
    assert dvt_code == dbt_code == 2, (dbt_output[-1500:], output[-1500:])
    # The next run (the source fast again) builds everything; nothing of the stopped one remains.
    own_postgres.psql(
        "drop view app.events; create table app.events as select 2 as id, 'new' as kind", "app"
    )
    rerun = project.cli("dvt", "run")
    assert rerun.returncode == 0, rerun.stdout[-3000:]
    assert duck_rows(duck_file, "lake.lake.events_copy") == [(2, "new")]
    assert not [t for t in _tables(duck_file) if "__dvt_" in t]


TARGET_FILES = {
    "dbt_project.yml": dbt_project_yml(
        "faults", "models:\n  faults:\n    +target: wh\n    +materialized: table\n"
    ),
    "models/sources.yml": """\
        sources:
          - name: app
            schema: app
            config: {connection: src}
            tables: [{name: events}]
        """,
    "models/labels.sql": "{{ config(target='duck') }} select 1 as id, 'one' as label",
    "models/joined.sql": """\
        select e.id, e.kind, l.label from {{ source('app', 'events') }} e
        left join {{ ref('labels') }} l on l.id = e.id
        """,
    "models/independent.sql": "{{ config(target='duck') }} select 42 as answer",
}


def test_target_stopped_during_the_load(
    own_postgres: PostgresServer, postgres: PostgresServer, tmp_path: Path
) -> None:
    """The model's target dies while the engine writes its stage: the node fails, the other
    target's nodes finish, and once the target is back its table is the old one, no stage."""
    source_db = f"src_{tmp_path.name[-12:].lower().replace('-', '_')}"
    postgres.create_database(source_db)
    postgres.psql(
        "create schema app; create table app.events as select 1 as id, 'old' as kind", source_db
    )
    own_postgres.create_database("wh")
    project = Project(tmp_path / "project").write(TARGET_FILES)
    project.profiles(
        {
            "wh": pg_output(own_postgres, "wh", "public"),
            "src": pg_output(postgres, source_db, "public"),
            "duck": duck_output(tmp_path / "lake.duckdb", "lake"),
        },
        "duck",  # dbt's on-run-end step runs on the default target, up here
    )
    first = project.cli("dvt", "run")
    assert first.returncode == 0, first.stdout[-3000:]
    postgres.psql(
        "drop table app.events; create view app.events as select g as id, "
        "case when pg_sleep(0.005)::text = 'never' then 'x' else 'new' end as kind "
        "from generate_series(1, 2000) g",
        source_db,
    )
    child, seen = _started(project, "dvt", "joined")
    time.sleep(1.5)  # inside the ten-second load
    own_postgres.stop(remove=False)
    output, _ = child.communicate(timeout=120)
    output = seen + output
    own_postgres.restart()
    assert child.returncode == 1, output
    statuses = project.statuses()
    assert statuses["model.faults.joined"] == "error"
    assert statuses["model.faults.independent"] == "success"
    assert "DVT104" in output and "model.faults.joined" in output and "'wh'" in output
    assert own_postgres.password not in output
    assert pg_rows(own_postgres, "wh", "public.joined") == [(1, "old", "one")]
    assert not [t for t in pg_relations(own_postgres, "wh", "public") if "__dvt_" in t]
    # The target back and the source fast again, `dvt retry` finishes the build.
    postgres.psql(
        "drop view app.events; create table app.events as select 1 as id, 'new' as kind",
        source_db,
    )
    retried = project.cli("dvt", "retry")
    assert retried.returncode == 0, retried.stdout[-3000:]
    assert set(project.statuses()) == {"model.faults.joined"}
    assert pg_rows(own_postgres, "wh", "public.joined") == [(1, "new", "one")]
    assert not [t for t in pg_relations(own_postgres, "wh", "public") if "__dvt_" in t]


NUMBERS = "select range as i from range(2000000)"
#: A federated model whose engine query sorts about 150 MB: two million 64-character keys.
HEAVY = """\
    {{ config(compute='small', placement='engine') }}
    select e.kind, count(*) as n, max(g.r) as top
    from {{ source('app', 'events') }} e
    cross join (
        select row_number() over (order by md5(n.i::text) || md5((n.i + 1)::text)) as r
        from {{ ref('numbers') }} n
    ) g
    group by e.kind
    """


def _computes(small: str) -> str:
    return f"test:\n  computes:\n    small: {{type: duckdb, threads: 1, {small}}}\n"


@contextlib.contextmanager
def _tmpfs(folder: Path, size: str) -> Iterator[Path]:
    """A filesystem of `size` at `folder`, for a temp folder that fills up (root only)."""
    folder.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


@pytest.mark.parametrize("limit", ["memory", "disk"])
def test_engine_out_of_memory_or_temp_space(
    limit: str, own_postgres: PostgresServer, tmp_path: Path
) -> None:
    """The engine runs out of memory (no room to spill) or out of temp space: only that model
    fails, naming itself and the cause; its table stays; no stage or spill file remains; with
    computes.yml relaxed, `dvt retry` builds it."""
    if limit == "disk" and os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    roomy = _computes(f"memory_limit: 1GB, temp_directory: '{tmp_path / 'spill_ok'}'")
    project = _project(
        tmp_path,
        own_postgres,
        {"models/heavy.sql": HEAVY, "models/numbers.sql": NUMBERS, "computes.yml": roomy},
    )
    duck_file = tmp_path / "lake.duckdb"
    assert duck_rows(duck_file, "lake.lake.heavy") == [("old", 2000000, 2000000)]
    own_postgres.psql("update app.events set kind = 'new'", "app")
    spill = tmp_path / "spill"
    with contextlib.ExitStack() as stack:
        if limit == "memory":
            (project.root / "computes.yml").write_text(_computes("memory_limit: 20MB"))
            expected = "Out of Memory Error"
        else:
            stack.enter_context(_tmpfs(spill, "2m"))
            (project.root / "computes.yml").write_text(
                _computes(f"memory_limit: 64MB, temp_directory: '{spill / 'dvt'}'")
            )
            expected = "max_temp_directory_size"
        result = project.cli("dvt", "run")
        if limit == "disk":
            assert not _files(spill), "spill files left behind"
    assert result.returncode == 1, result.stdout[-3000:]
    assert "model.faults.heavy" in result.stdout and expected in result.stdout
    statuses = project.statuses()
    assert statuses["model.faults.heavy"] == "error"
    assert {statuses[f"model.faults.{n}"] for n in ("events_copy", "independent")} == {"success"}
    assert duck_rows(duck_file, "lake.lake.events_copy") == [(1, "new")]
    assert duck_rows(duck_file, "lake.lake.heavy") == [("old", 2000000, 2000000)]
    assert not [t for t in _tables(duck_file) if "__dvt_" in t]
    assert not _files(project.root / ".tmp")  # DuckDB's default spill folder
    (project.root / "computes.yml").write_text(roomy)
    retried = project.cli("dvt", "retry")
    assert retried.returncode == 0, retried.stdout[-3000:]
    assert set(project.statuses()) == {"model.faults.heavy"}
    assert duck_rows(duck_file, "lake.lake.heavy") == [("new", 2000000, 2000000)]
    assert not _files(tmp_path / "spill_ok")
