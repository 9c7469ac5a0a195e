"""TPC-DS federated: the 99 queries as table models on PostgreSQL, with the facts on PostgreSQL
and the dimensions in a DuckDB file, by `dvt run` against `dbt run` on one PostgreSQL database
holding all 24 tables and against hand-written DuckDB-scanner scripts, all in the same run.

    .venv/bin/python bench/tpcds.py [--sf 0.01] [--repeat 3] [--timeout 60] [--threads 2]

Data: DuckDB's tpcds extension (`CALL dsdgen`), loaded into a throwaway PostgreSQL by COPY of
CSV files DuckDB writes (ANALYZE after): the 7 fact tables into database `facts`, the 17
dimensions into a DuckDB file, and all 24 into database `allinone`. Queries: `tpcds_queries()`
(DuckDB's text), run as PostgreSQL runs them; a query PostgreSQL rejects or does not finish
within `--timeout` seconds (as `CREATE TEMP TABLE ... AS`, what a table model needs) is listed
and left out of every side. Sides, each `--repeat` times, alternating, medians reported:

- A, plain dbt: `dbt run --threads N` of the queries as table models on `allinone`.
- B, DVT: `dvt run --threads N` of the same models on `facts` (target `pg`), the facts read as
  sources there and the dimensions as sources on a DuckDB output (`config: {connection: duck}`),
  placement auto; each result table is checked against A's (rows as multisets, numbers to 10
  significant digits).
- C, the scanner floor: per query, a fresh in-memory DuckDB attaches `facts` (postgres scanner)
  and the dimensions file and runs `CREATE TABLE pg.floor.qNN AS <query>` (DuckDB's text).

Peak resident memory is the maximum RSS of each `dvt run` / `dbt run` process. CPU seconds are
those of the process and of the PostgreSQL server during the run, together: on a machine others
share, they move far less than wall time does.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import decimal
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import repository  # noqa: F401 - the repository root on sys.path, for tests.servers
import yaml
from tests.conformance.tpc import TPCDS_DIMENSIONS as DIMENSIONS
from tests.conformance.tpc import TPCDS_FACTS as FACTS
from tests.servers.postgres import PostgresServer

#: DuckDB's types of the generated tables, as PostgreSQL columns.
PG_TYPES = {"INTEGER": "integer", "BIGINT": "bigint", "DATE": "date", "VARCHAR": "varchar"}


def extension_path(name: str) -> str:
    """A DuckDB extension binary from its PyPI package, as `dvt.engines.duckdb` finds them."""
    import importlib.util

    spec = importlib.util.find_spec(f"duckdb_extension_{name}")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"install duckdb-extension-{name.replace('_', '-')} (the dev extra)")
    found = sorted(Path(spec.submodule_search_locations[0]).rglob(f"{name}.duckdb_extension"))
    return str(found[-1])


# -- data and queries ----------------------------------------------------------------------


def generate(sf: float, work: Path) -> tuple[dict[int, str], dict[str, str], dict[str, int]]:
    """TPC-DS at `sf`: a CSV per table under `work/csv`, the dimensions in `work/dims.duckdb`
    (schema `dims`). Returns the queries by number, each table's PostgreSQL DDL and rows."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute(f"LOAD '{extension_path('tpcds')}'")
    con.execute(f"CALL dsdgen(sf={sf})")
    queries = {n: q.strip().rstrip(";") for n, q in con.sql("FROM tpcds_queries()").fetchall()}
    (work / "csv").mkdir()
    ddl, rows = {}, {}
    for table in (*FACTS, *DIMENSIONS):
        columns = []
        for name, kind, *_ in con.sql(f"DESCRIBE {table}").fetchall():
            pg_type = PG_TYPES.get(kind) or kind.replace("DECIMAL", "numeric")
            columns.append(f"{name} {pg_type}")
        ddl[table] = f"create table public.{table} ({', '.join(columns)})"
        rows[table] = con.sql(f"SELECT count(*) FROM {table}").fetchone()[0]
        con.execute(f"COPY {table} TO '{work / 'csv' / table}.csv' (HEADER false)")
    con.execute(f"ATTACH '{work / 'dims.duckdb'}' AS dims")
    con.execute("CREATE SCHEMA dims.dims")
    for table in DIMENSIONS:
        con.execute(f"CREATE TABLE dims.dims.{table} AS FROM memory.main.{table}")
    con.close()
    return queries, ddl, rows


def load_postgres(
    server: PostgresServer, database: str, tables: tuple[str, ...], work: Path, ddl: dict[str, str]
) -> None:
    """Tables created and COPYed from the CSV files, then ANALYZEd."""
    import psycopg2

    server.create_database(database)
    with psycopg2.connect(server.dsn_for(database)) as conn, conn.cursor() as cur:
        for table in tables:
            cur.execute(ddl[table])
            with (work / "csv" / f"{table}.csv").open() as csv:
                cur.copy_expert(f"COPY public.{table} FROM STDIN (FORMAT csv)", csv)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("ANALYZE")
    conn.close()


def sourced(sql: str, render: Callable[[str], str]) -> str:
    """The query with each base-table reference (not a CTE's name) replaced by `render(name)`,
    keeping the name as the alias where the query gave none (columns qualified by it)."""
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(sql, read="duckdb")
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    spans = []
    for table in tree.find_all(exp.Table):
        name = table.name.lower()
        if name in ctes or name not in (*FACTS, *DIMENSIONS):
            continue
        meta = table.this.meta
        text = render(name) + ("" if table.alias else f" AS {name}")
        spans.append((meta["start"], meta["end"] + 1, text))
    for start, end, text in sorted(spans, reverse=True):
        sql = sql[:start] + text + sql[end:]
    return sql


def dbt_source(name: str) -> str:
    group = "tpcds" if name in FACTS else "dims"
    return f"{{{{ source('{group}', '{name}') }}}}"


def scanner_table(name: str) -> str:
    return f"pg.public.{name}" if name in FACTS else f"dims.dims.{name}"


def native_check(
    server: PostgresServer, queries: dict[int, str], timeout: int
) -> tuple[dict[int, float], dict[int, str]]:
    """Each query as `CREATE TEMP TABLE ... AS` on `allinone` (rolled back): seconds of those
    PostgreSQL answers, and why it did not answer the others."""
    import psycopg2

    answered, refused = {}, {}
    conn = psycopg2.connect(server.dsn_for("allinone"))
    for number, sql in queries.items():
        with conn.cursor() as cur:
            cur.execute(f"SET statement_timeout = '{timeout}s'")
            started = time.perf_counter()
            try:
                cur.execute(f"CREATE TEMP TABLE native_check AS {sql}")
                answered[number] = time.perf_counter() - started
            except psycopg2.errors.QueryCanceled:
                refused[number] = f"timed out after {timeout} s"
            except psycopg2.Error as exc:
                refused[number] = str(exc).splitlines()[0]
        conn.rollback()
    conn.close()
    return answered, refused


# -- the projects --------------------------------------------------------------------------


def pg_output(server: PostgresServer, database: str, schema: str, threads: int) -> dict[str, Any]:
    return {
        "type": "postgres",
        "host": server.host,
        "port": server.port,
        "user": server.user,
        "password": server.password,
        "dbname": database,
        "schema": schema,
        "threads": threads,
    }


def write_project(
    root: Path, outputs: dict[str, Any], sources: list[dict[str, Any]], models: dict[str, str]
) -> None:
    (root / "models").mkdir(parents=True)
    (root / "dbt_project.yml").write_text("name: tpcds\nversion: '1.0'\nprofile: tpcds\n")
    profile = {"tpcds": {"target": "pg", "outputs": outputs}}
    (root / "profiles.yml").write_text(yaml.safe_dump(profile))
    (root / "models" / "sources.yml").write_text(yaml.safe_dump({"sources": sources}))
    for name, sql in models.items():
        (root / "models" / f"{name}.sql").write_text(
            "{{ config(materialized='table') }}\n" + sql + "\n"
        )


def sources(dims_config: dict[str, Any], dims_schema: str) -> list[dict[str, Any]]:
    return [
        {"name": "tpcds", "schema": "public", "tables": [{"name": t} for t in FACTS]},
        {
            "name": "dims",
            "schema": dims_schema,
            **dims_config,
            "tables": [{"name": t} for t in DIMENSIONS],
        },
    ]


#: Runs a command and writes its seconds and peak RSS (KiB): a small process forks the command,
#: so the peak is the command's own (Linux starts a child's maximum RSS at its forker's).
LAUNCHER = """
import resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.call(sys.argv[2:])
seconds = time.perf_counter() - start
used = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = used.ru_utime + used.ru_stime
open(sys.argv[1], "w").write(f"{seconds} {used.ru_maxrss} {cpu}")
sys.exit(code)
"""


def run_tool(args: list[str], cwd: Path) -> tuple[float, float, float, int, str]:
    """(seconds, peak resident MiB, CPU seconds, exit code, output) of one child process."""
    with tempfile.TemporaryFile("w+") as out, tempfile.NamedTemporaryFile("r") as report:
        child = subprocess.run(
            [sys.executable, "-S", "-c", LAUNCHER, report.name, *args],
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
            check=False,
        )
        seconds, peak, cpu = report.read().split()
        out.seek(0)
        return float(seconds), int(peak) / 1024, float(cpu), child.returncode, out.read()


def server_cpu(server: PostgresServer) -> float:
    """CPU seconds the PostgreSQL server has used so far: the postmaster's own and its ended
    backends' (each connection's backend ends with it), from /proc."""
    pid = int((server.folder / "data" / "postmaster.pid").read_text().split()[0])
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def reason_kind(reason: str) -> str:
    """The kind of a placement's reason, without the query's own expressions."""
    refusal = "the engine cannot be proven the same: "
    if reason.startswith(refusal):
        return "not provably the same: " + reason[len(refusal) :].split(" (")[0].split(":")[0]
    return reason.split(" (")[0]


LOG_LINE = re.compile(r"(\d\d):(\d\d):(\d\d\.\d+) \[[a-z ]+\] \[(Thread-\d+) \(\]: (.*)")
STATUS = re.compile(r"SQL status: (\w+).* in ([\d.]+) seconds")


def breakdown(log: Path) -> dict[str, tuple[float, float, float, float]]:
    """Per model, from dbt's debug log: (planning, imports or engine work, the target's
    statement that builds the table, the rest of dbt's materialization) in seconds."""
    nodes: dict[str, dict[str, float]] = {}
    current: dict[str, str] = {}
    for line in log.read_text(errors="replace").splitlines():
        match = LOG_LINE.search(line)
        if not match:
            continue
        hours, minutes, seconds, thread, message = match.groups()
        at = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
        if message.startswith("Began executing node model."):
            current[thread] = message.rsplit(".", 1)[-1]
            nodes[current[thread]] = {"start": at}
            continue
        name = current.get(thread)
        if name is None:
            continue
        marks = nodes[name]
        if ": placement " in message:
            marks.setdefault("placed", at)
        elif message.startswith("Writing runtime sql"):
            marks.setdefault("sql", at)
        elif "sql" in marks and "statement" not in marks and (status := STATUS.search(message)):
            marks["statement"] = float(status.group(2))
        elif message.startswith("Finished running node"):
            marks["end"] = at
            del current[thread]
    out = {}
    for name, m in nodes.items():
        if {"placed", "sql", "end"} <= m.keys():
            statement = m.get("statement", 0.0)
            out[name] = (
                m["placed"] - m["start"],
                m["sql"] - m["placed"],
                statement,
                m["end"] - m["sql"] - statement,
            )
    return out


class Side:
    """One tool's runs of one project: whole-command seconds, peaks, per-model results."""

    def __init__(self, tool: str, root: Path, threads: int, server: PostgresServer) -> None:
        self.tool, self.root, self.threads, self.server = tool, root, threads, server
        self.seconds: list[float] = []
        #: CPU seconds of each run: the tool's process and the PostgreSQL server's, together
        #: (a steadier measure than wall time on a shared machine).
        self.cpu: list[float] = []
        self.peaks: list[float] = []
        self.models: dict[str, list[float]] = collections.defaultdict(list)
        self.status: dict[str, str] = {}
        self.placement: dict[str, str] = {}
        self.reason: dict[str, str] = {}
        self.message: dict[str, str] = {}

    def command(self, verb: str) -> list[str]:
        where = ["--project-dir", str(self.root), "--profiles-dir", str(self.root)]
        return [str(Path(sys.executable).with_name(self.tool)), verb, *where]

    def parse(self) -> None:
        """Warm partial parsing, as a user's second run."""
        _, _, _, code, output = run_tool(self.command("parse"), self.root)
        if code != 0:
            raise SystemExit(f"{self.tool} parse failed:\n{output[-4000:]}")

    def run(self) -> None:
        server_before = server_cpu(self.server)
        seconds, peak, cpu, _, output = run_tool(  # a failed model fails the run: read its results
            [*self.command("run"), "--threads", str(self.threads)], self.root
        )
        self.cpu.append(cpu + server_cpu(self.server) - server_before)
        results = self.root / "target" / "run_results.json"
        if not results.exists():
            raise SystemExit(f"{self.tool} run wrote no run_results.json:\n{output[-4000:]}")
        self.seconds.append(seconds)
        self.peaks.append(peak)
        for result in json.loads(results.read_text())["results"]:
            name = result["unique_id"].rsplit(".", 1)[-1]
            self.status[name] = result["status"]
            self.models[name].append(result["execution_time"])
            if result["status"] != "success":
                self.message[name] = (result.get("message") or "").splitlines()[0][:200]
            dvt = (result.get("adapter_response") or {}).get("dvt") or {}
            if dvt:
                pushdown = dvt.get("path") == "pushdown"
                self.placement[name] = dvt.get("placement") or ("pushdown" if pushdown else "-")
                self.reason[name] = reason_kind(dvt.get("reason") or "")
        # Keep each run's log for a look at where the time went.
        log = self.root / "logs" / "dbt.log"
        if log.exists():
            log.rename(log.with_name(f"dbt.{len(self.seconds)}.log"))

    def median(self, name: str) -> float | None:
        times = self.models.get(name)
        return statistics.median(times) if times else None


FLOOR_SCRIPT = """
import json, sys, time, duckdb
pg_dsn, dims_file, scanner, queries_file = sys.argv[1:5]
times = {}
for name, sql in json.load(open(queries_file)).items():
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute(f"LOAD '{scanner}'")
    con.execute(f"ATTACH '{pg_dsn}' AS pg (TYPE postgres)")
    con.execute(f"DROP TABLE IF EXISTS pg.floor.{name}")
    con.close()
    started = time.perf_counter()
    try:
        con = duckdb.connect()
        con.execute("SET enable_progress_bar = false")
        con.execute(f"LOAD '{scanner}'")
        con.execute(f"ATTACH '{pg_dsn}' AS pg (TYPE postgres)")
        con.execute(f"ATTACH '{dims_file}' AS dims (READ_ONLY)")
        con.execute(f"CREATE TABLE pg.floor.{name} AS {sql}")
        con.close()
        times[name] = time.perf_counter() - started
    except duckdb.Error as exc:
        times[name] = str(exc).splitlines()[0][:200]
print(json.dumps(times))
"""


def run_floor(server: PostgresServer, work: Path, queries: dict[str, str]) -> dict[str, Any]:
    path = work / "floor_queries.json"
    path.write_text(json.dumps(queries))
    args = [
        sys.executable,
        "-c",
        FLOOR_SCRIPT,
        server.dsn_for("facts"),
        str(work / "dims.duckdb"),
        extension_path("postgres_scanner"),
        str(path),
    ]
    result = subprocess.run(args, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"floor script failed:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.splitlines()[-1])


# -- correctness ---------------------------------------------------------------------------


def normal(value: object) -> object:
    """A value as compared: numbers to 10 significant digits, dates as text."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float | decimal.Decimal):
        number = float(value)
        return "0" if number == 0 else f"{number:.10g}"
    if isinstance(value, datetime.date | datetime.datetime | datetime.time):
        return value.isoformat()
    return value


def fetch(server: PostgresServer, database: str, table: str) -> tuple[list[str], list[tuple]]:
    import psycopg2

    with psycopg2.connect(server.dsn_for(database)) as conn, conn.cursor() as cur:
        cur.execute(f"select * from {table}")
        columns = [d.name for d in cur.description]
        rows = [tuple(normal(v) for v in row) for row in cur.fetchall()]
    conn.close()
    return columns, rows


def compare(server: PostgresServer, name: str) -> str | None:
    """None when B's table holds A's rows (as multisets), else a short diff."""
    a_cols, a_rows = fetch(server, "allinone", f"plain.{name}")
    b_cols, b_rows = fetch(server, "facts", f"fed.{name}")
    if len(a_cols) != len(b_cols):
        return f"{len(b_cols)} columns against {len(a_cols)}"
    a, b = collections.Counter(a_rows), collections.Counter(b_rows)
    if a == b:
        names = "" if a_cols == b_cols else f" (column names {b_cols} against {a_cols})"
        return None if not names else f"same rows{names}"
    missing, extra = a - b, b - a
    return (
        f"{len(b_rows)} rows against {len(a_rows)}; "
        f"only in A ({sum(missing.values())}): {list(missing.elements())[:2]}; "
        f"only in B ({sum(extra.values())}): {list(extra.elements())[:2]}"
    )


# -- the run -------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sf", type=float, default=0.01, help="TPC-DS scale factor")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each side (medians)")
    parser.add_argument("--timeout", type=int, default=60, help="PostgreSQL seconds per query")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--queries", help="only these query numbers, e.g. 1,3,7-9")
    parser.add_argument("--keep", type=Path, help="work folder to keep (projects, logs, CSV)")
    args = parser.parse_args()

    if args.keep:
        shutil.rmtree(args.keep, ignore_errors=True)
        args.keep.mkdir(parents=True)
    with (
        tempfile.TemporaryDirectory() as folder,
        PostgresServer.start() as server,
    ):
        work = args.keep or Path(folder)
        t0 = time.perf_counter()
        queries, ddl, table_rows = generate(args.sf, work)
        if args.queries:
            wanted = set()
            for part in args.queries.split(","):
                low, _, high = part.partition("-")
                wanted.update(range(int(low), int(high or low) + 1))
            queries = {n: q for n, q in queries.items() if n in wanted}
        generated = time.perf_counter() - t0
        load_postgres(server, "facts", FACTS, work, ddl)
        load_postgres(server, "allinone", (*FACTS, *DIMENSIONS), work, ddl)
        server.psql("create schema floor", "facts")
        loaded = time.perf_counter() - t0 - generated
        print(
            f"TPC-DS sf {args.sf}: generated in {generated:.1f} s, loaded in {loaded:.1f} s; "
            f"store_sales {table_rows['store_sales']:,} rows, "
            f"facts {sum(table_rows[t] for t in FACTS):,}, "
            f"dimensions {sum(table_rows[t] for t in DIMENSIONS):,}",
            flush=True,
        )

        native, refused = native_check(server, queries, args.timeout)
        print(f"PostgreSQL answers {len(native)} of {len(queries)} queries", flush=True)
        for number, why in refused.items():
            print(f"  q{number:02d} left out: {why}")
        names = {n: f"q{n:02d}" for n in native}
        models = {names[n]: sourced(queries[n], dbt_source) for n in native}
        floors = {names[n]: sourced(queries[n], scanner_table) for n in native}

        a = Side("dbt", work / "a", args.threads, server)
        write_project(
            a.root,
            {"pg": pg_output(server, "allinone", "plain", args.threads)},
            sources({}, "public"),
            models,
        )
        b = Side("dvt", work / "b", args.threads, server)
        duck = {"type": "duckdb", "path": str(work / "dims.duckdb"), "schema": "dims"}
        write_project(
            b.root,
            {"pg": pg_output(server, "facts", "fed", args.threads), "duck": duck},
            sources({"config": {"connection": "duck"}}, "dims"),
            models,
        )
        a.parse()
        b.parse()
        floor_times: dict[str, list[float]] = collections.defaultdict(list)
        floor_errors: dict[str, str] = {}
        for i in range(args.repeat):
            for side in (a, b):
                side.run()
                print(
                    f"  run {i + 1}: {side.tool} run {side.seconds[-1]:.1f} s, "
                    f"CPU {side.cpu[-1]:.1f} s, peak {side.peaks[-1]:.0f} MiB",
                    flush=True,
                )
            started = time.perf_counter()
            for name, value in run_floor(server, work, floors).items():
                if isinstance(value, str):
                    floor_errors[name] = value
                else:
                    floor_times[name].append(value)
            print(f"  run {i + 1}: floor scripts {time.perf_counter() - started:.1f} s", flush=True)

        wrong: dict[str, str] = {}
        same = 0
        for name in models:
            if a.status.get(name) != "success" or b.status.get(name) != "success":
                continue
            diff = compare(server, name)
            if diff is None:
                same += 1
            else:
                wrong[name] = diff
        report(args, a, b, native, refused, names, floor_times, floor_errors, wrong, same)


def report(
    args: argparse.Namespace,
    a: Side,
    b: Side,
    native: dict[int, float],
    refused: dict[int, str],
    names: dict[int, str],
    floor_times: dict[str, list[float]],
    floor_errors: dict[str, str],
    wrong: dict[str, str],
    same: int,
) -> None:
    print()
    print(
        f"{'query':6}{'pg':>8}{'A dbt':>8}{'B dvt':>8}  {'placement':10}{'C floor':>8}"
        f"{'B/C':>7}{'B/A':>7}  result"
    )
    ratios = {}
    for number, name in names.items():
        a_s, b_s = a.median(name), b.median(name)
        c_s = statistics.median(floor_times[name]) if floor_times.get(name) else None
        if b_s is not None and c_s and b.status.get(name) == "success":
            ratios[name] = b_s / c_s
        if b.status.get(name) != "success":
            verdict = f"B {b.status.get(name)}: {b.message.get(name, '')}"
        elif a.status.get(name) != "success":
            verdict = f"A {a.status.get(name)}: {a.message.get(name, '')}"
        else:
            verdict = "wrong" if name in wrong else "ok"
        if name in floor_errors:
            verdict += f"; floor: {floor_errors[name]}"

        def cell(value: float | None) -> str:
            return f"{value:8.2f}" if value is not None else f"{'-':>8}"

        ratio = f"{ratios[name]:7.2f}" if name in ratios else f"{'-':>7}"
        versus_a = f"{b_s / a_s:7.2f}" if b_s and a_s and name in ratios else f"{'-':>7}"
        print(
            f"{name:6}{cell(native[number])}{cell(a_s)}{cell(b_s)}  "
            f"{b.placement.get(name, '-'):10}{cell(c_s)}{ratio}{versus_a}  {verdict}"
        )
    med = statistics.median
    a_run, b_run = med(a.seconds), med(b.seconds)
    print()
    print(
        f"TPC-DS sf {args.sf}, {len(names)} queries, --threads {args.threads}, "
        f"{args.repeat} run(s) of each side (medians)"
    )
    print(
        f"  A dbt run (all-in-one PostgreSQL): {a_run:7.2f} s  {_runs(a.seconds)}  "
        f"peak {max(a.peaks):.0f} MiB"
    )
    print(
        f"  B dvt run (federated):             {b_run:7.2f} s  {_runs(b.seconds)}  "
        f"peak {max(b.peaks):.0f} MiB (goal < 2048)"
    )
    print(f"  whole run B/A: {b_run / a_run:.2f}   (goal <= 1.2)")
    a_cpu, b_cpu = med(a.cpu), med(b.cpu)
    print(
        f"  CPU seconds (the tool and PostgreSQL): A {a_cpu:.2f}, B {b_cpu:.2f}, "
        f"B/A {b_cpu / a_cpu:.2f}"
    )
    a_sum = sum(a.median(n) or 0 for n in names.values())
    b_sum = sum(b.median(n) or 0 for n in names.values())
    c_sum = sum(med(v) for v in floor_times.values())
    print(
        f"  sum of model times: A {a_sum:.2f} s, B {b_sum:.2f} s, C floor {c_sum:.2f} s "
        f"(B/A {b_sum / a_sum:.2f}, B/C {b_sum / c_sum:.2f})"
    )
    placements = collections.Counter(b.placement.values())
    print(f"  placements: {dict(placements)}")
    for (placed, reason), count in collections.Counter(
        (b.placement[n], b.reason[n]) for n in b.placement
    ).most_common():
        print(f"    {count:3d} {placed}: {reason}")
    over = sorted(ratios.items(), key=lambda item: -item[1])
    print(
        f"  queries over 3x their floor: {sum(r > 3 for r in ratios.values())} of "
        f"{len(ratios)}; worst ten B/C: " + ", ".join(f"{n} {r:.1f}x" for n, r in over[:10])
    )
    logs = sorted((b.root / "logs").glob("dbt.*.log"))
    if logs:
        parts = breakdown(logs[-1])
        slowest = sorted(parts, key=lambda n: -sum(parts[n]))[:10]
        print(
            f"  where B's time goes, slowest ten in the last run ({logs[-1].name}): "
            "plan / imports or engine / the target's create table / rest"
        )
        for name in slowest:
            plan, prepare, statement, rest = parts[name]
            print(
                f"    {name} {b.placement.get(name, '-'):7} {sum(parts[name]):6.2f} s = "
                f"{plan:5.2f} + {prepare:5.2f} + {statement:5.2f} + {rest:5.2f}"
            )
    failed_b = [n for n in names.values() if b.status.get(n) != "success"]
    failed_a = [n for n in names.values() if a.status.get(n) != "success"]
    print(
        f"  correct: {same} of {len(names)}; wrong: {len(wrong)}; "
        f"B failed: {len(failed_b)} {failed_b}; A failed: {len(failed_a)} {failed_a}"
    )
    for name, diff in wrong.items():
        print(f"    {name} wrong: {diff}")
    print(f"  PostgreSQL left out {len(refused)}: " + ", ".join(f"q{n:02d}" for n in refused))
    if floor_errors:
        print(f"  floor errors: {floor_errors}")


def _runs(seconds: list[float]) -> str:
    return "(" + ", ".join(f"{s:.1f}" for s in seconds) + ")"


if __name__ == "__main__":
    main()
