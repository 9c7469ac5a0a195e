"""Federation speed: a PostgreSQL fact joined to a DuckDB dimension, written to PostgreSQL and,
separately, to DuckDB, by `dvt run` and by baselines measured in the same run.

    .venv/bin/python bench/federation.py [--rows 1000000] [--dims 10000] [--spark]

Baselines: a hand-written script using DuckDB's postgres scanner (the floor) and, with --spark
(needs `pip install pyspark` and Java), the same through Spark JDBC (the original DVT's approach).
Each measurement is a separate process; peak resident memory is that process's maximum RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import repository  # noqa: F401 - the repository root on sys.path, for tests.servers
import yaml
from tests.servers.postgres import PostgresServer

MODEL_SQL = """\
{{{{ config(materialized='table', target='{target}') }}}}
select f.id, f.amount, f.ts, d.name as dim_name, d.category
from {{{{ source('pg', 'fact') }}}} f
join {{{{ source('lake', 'dim') }}}} d on d.id = f.dim_id
where f.amount >= 0
"""


def run_process(args: list[str], cwd: Path | None = None) -> tuple[float, float]:
    """(seconds, peak resident MiB) of one child process."""
    seconds, peak, _ = run_output(args, cwd)
    return seconds, peak


def run_output(
    args: list[str], cwd: Path | None = None, expect: int = 0
) -> tuple[float, float, str]:
    """(seconds, peak resident MiB, output) of one child process, which must exit `expect`."""
    with tempfile.TemporaryFile("w+") as out:
        start = time.perf_counter()
        child = subprocess.Popen(
            args,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
        )
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        output = out.read()
        if child.returncode != expect:
            raise SystemExit(f"{args[:3]} failed:\n{output[-4000:]}")
    return elapsed, usage.ru_maxrss / 1024, output


def load_data(server: PostgresServer, duck_file: Path, rows: int, dims: int) -> None:
    server.create_database("bench")
    server.psql(
        f"create table public.fact as select g as id, (g % {dims}) as dim_id, "
        "((g % 100000) / 100.0)::numeric(12,2) as amount, "
        "timestamp '2024-01-01' + g * interval '1 second' as ts, md5(g::text) as note "
        f"from generate_series(1, {rows}) g; analyze public.fact",
        "bench",
    )
    import duckdb

    with duckdb.connect(str(duck_file)) as conn:
        conn.execute(
            f"create schema lake.lake; create table lake.lake.dim as select range as id, 'dim ' || range as name, "
            f"range % 7 as category from range({dims})"
        )


def write_profiles(
    root: Path,
    name: str,
    server: PostgresServer,
    duck_file: Path,
    schema: str,
    memory_limit: str | None = None,
) -> None:
    """profiles.yml with a PostgreSQL output `pg` (the default) and a DuckDB output `duck`
    (with dbt-duckdb's `settings: {memory_limit}` when given)."""
    pg = {
        "type": "postgres",
        "host": server.host,
        "port": server.port,
        "user": server.user,
        "password": server.password,
        "dbname": "bench",
        "schema": "public",
        "threads": 1,
    }
    duck: dict[str, object] = {"type": "duckdb", "path": str(duck_file), "schema": schema}
    duck["threads"] = 1
    if memory_limit:
        duck["settings"] = {"memory_limit": memory_limit}
    (root / "profiles.yml").write_text(
        yaml.safe_dump({name: {"target": "pg", "outputs": {"pg": pg, "duck": duck}}})
    )


def write_project(
    root: Path, server: PostgresServer, duck_file: Path, memory_limit: str | None
) -> None:
    (root / "models").mkdir(parents=True)
    (root / "dbt_project.yml").write_text("name: fedbench\nversion: '1.0'\nprofile: fedbench\n")
    write_profiles(root, "fedbench", server, duck_file, "out", memory_limit)
    if memory_limit:
        computes = {
            "target": "local",
            "computes": {"local": {"type": "duckdb", "memory_limit": memory_limit}},
        }
        (root / "computes.yml").write_text(yaml.safe_dump({"fedbench": computes}))
    (root / "models" / "sources.yml").write_text(
        textwrap.dedent("""\
        sources:
          - name: pg
            schema: public
            tables: [{name: fact}]
          - name: lake
            schema: lake
            config: {connection: duck}
            tables: [{name: dim}]
        """)
    )
    (root / "models" / "to_pg.sql").write_text(MODEL_SQL.format(target="pg"))
    (root / "models" / "to_duck.sql").write_text(MODEL_SQL.format(target="duck"))


FLOOR_SCRIPT = """
import sys, duckdb, importlib.util, pathlib
pg_dsn, duck_file, target, memory_limit = sys.argv[1:5]
def ext(name):
    spec = importlib.util.find_spec("duckdb_extension_" + name)
    return str(sorted(pathlib.Path(spec.submodule_search_locations[0]).rglob(name + ".duckdb_extension"))[-1])
con = duckdb.connect()
if memory_limit:
    con.execute(f"SET memory_limit = '{memory_limit}'")
con.execute(f"LOAD '{ext('postgres_scanner')}'")
con.execute(f"ATTACH '{pg_dsn}' AS pg (TYPE postgres)")
con.execute(f"ATTACH '{duck_file}' AS lake")
query = '''select f.id, f.amount, f.ts, d.name as dim_name, d.category
  from postgres_query('pg', 'select id, dim_id, amount, ts from public.fact where amount >= 0') f
  join lake.lake.dim d on d.id = f.dim_id'''
if target == 'pg':
    con.execute("drop table if exists pg.public.floor_result")
    con.execute("create table pg.public.floor_result as " + query)
else:
    con.execute("create schema if not exists lake.out; drop table if exists lake.out.floor_result")
    con.execute("create table lake.out.floor_result as " + query)
"""

SPARK_SCRIPT = """
import sys, time, duckdb
from pyspark.sql import SparkSession
jdbc_url, user, password, duck_file, rows = sys.argv[1:6]
started = time.perf_counter()
spark = (SparkSession.builder.master('local[2]').appName('dvt-bench')
         .config('spark.jars', '/usr/share/java/postgresql.jar')
         .config('spark.ui.enabled', 'false').getOrCreate())
print(f'spark start-up {time.perf_counter() - started:.2f} s')
props = {'user': user, 'password': password, 'driver': 'org.postgresql.Driver'}
fact = spark.read.jdbc(jdbc_url, '(select id, dim_id, amount, ts from public.fact where amount >= 0) f',
                       column='id', lowerBound=1, upperBound=int(rows) + 1, numPartitions=2, properties=props)
dim = spark.createDataFrame(duckdb.connect(duck_file, read_only=True).sql('select * from lake.lake.dim').fetchall(), 'id long, name string, category long')
out = fact.join(dim, fact.dim_id == dim.id).select(fact.id, fact.amount, fact.ts, dim.name.alias('dim_name'), dim.category)
out.write.jdbc(jdbc_url, 'public.spark_result', mode='overwrite', properties={**props, 'batchsize': '10000'})
spark.stop()
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dims", type=int, default=10_000)
    parser.add_argument("--spark", action="store_true", help="also time the Spark JDBC path")
    parser.add_argument(
        "--memory-limit",
        help="DuckDB memory_limit for DVT's compute (computes.yml), the DuckDB target "
        "(profiles.yml settings) and the floor script alike",
    )
    args = parser.parse_args()
    python = sys.executable
    with tempfile.TemporaryDirectory() as folder, PostgresServer.start() as server:
        root = Path(folder)
        duck_file = root / "lake.duckdb"
        load_data(server, duck_file, args.rows, args.dims)
        project = root / "project"
        write_project(project, server, duck_file, args.memory_limit)
        dvt = [python, "-c", "import sys; from dvt.cli.main import cli; sys.exit(cli())"]
        where = ["--project-dir", str(project), "--profiles-dir", str(project)]
        run_process([*dvt, "parse", *where])  # warm: partial parsing, as a user's second run
        rows: list[tuple[str, float, float, str]] = []
        spark_startup = 0.0
        for target in ("pg", "duck"):
            seconds, peak = run_process([*dvt, "run", "--select", f"to_{target}", *where])
            results = json.loads((project / "target" / "run_results.json").read_text())["results"]
            node_seconds = results[0]["execution_time"]
            written = results[0]["adapter_response"]["dvt"]["rows"]
            rows.append(
                (f"dvt run -> {target} (whole command)", seconds, peak, f"{written:,} rows")
            )
            rows.append((f"dvt run -> {target} (the node)", node_seconds, peak, ""))
            floor_s, floor_peak = run_process(
                [
                    *(python, "-c", FLOOR_SCRIPT, server.dsn_for("bench"), str(duck_file)),
                    *(target, args.memory_limit or ""),
                ]
            )
            rows.append((f"hand-written DuckDB scanner -> {target}", floor_s, floor_peak, "floor"))
        if args.spark:
            jdbc = f"jdbc:postgresql://{server.host}:{server.port}/bench"
            spark_s, spark_peak, output = run_output(
                [
                    python,
                    "-c",
                    SPARK_SCRIPT,
                    jdbc,
                    server.user,
                    server.password,
                    str(duck_file),
                    str(args.rows),
                ]
            )
            startup = re.search(r"spark start-up ([\d.]+) s", output)
            spark_startup = float(startup.group(1)) if startup else 0.0
            rows.append(
                (
                    "Spark JDBC script (local[2]) -> pg",
                    spark_s,
                    spark_peak,
                    f"start-up {startup.group(1) if startup else '?'} s",
                )
            )
            seconds, peak, output = run_output(
                [*dvt, "run", "--select", "to_pg", "--compute", "spark", *where]
            )
            results = json.loads((project / "target" / "run_results.json").read_text())["results"]
            startup = re.search(r"Spark session started in ([\d.]+) s", output)
            rows.append(
                (
                    "dvt run --compute spark -> pg (whole command)",
                    seconds,
                    peak,
                    f"start-up {startup.group(1) if startup else '?'} s",
                )
            )
            rows.append(
                ("dvt run --compute spark -> pg (the node)", results[0]["execution_time"], peak, "")
            )
    limit = f", DuckDB memory_limit {args.memory_limit}" if args.memory_limit else ""
    print(
        f"federation: {args.rows:,}-row PostgreSQL fact x {args.dims:,}-row DuckDB dimension{limit}"
    )
    for name, seconds, peak, note in rows:
        print(f"  {name:42s} {seconds:7.2f} s  peak {peak:7.0f} MiB  {note}")
    by_name = {name: seconds for name, seconds, _, _ in rows}
    for target in ("pg", "duck"):
        floor = by_name[f"hand-written DuckDB scanner -> {target}"]
        print(
            f"  ratio dvt/floor -> {target}: whole command {by_name[f'dvt run -> {target} (whole command)'] / floor:.2f}, "
            f"node {by_name[f'dvt run -> {target} (the node)'] / floor:.2f}   (goal: node <= 1.1)"
        )
    spark_script = by_name.get("Spark JDBC script (local[2]) -> pg")
    if spark_script:
        node = by_name["dvt run -> pg (the node)"]
        spark_work = spark_script - spark_startup
        print(
            f"  Spark JDBC script / dvt on DuckDB -> pg: whole command "
            f"{spark_script / by_name['dvt run -> pg (whole command)']:.1f}x, node "
            f"{spark_script / node:.1f}x, script without Spark's start-up / node "
            f"{spark_work / node:.1f}x   (goal >= 10)"
        )
        on_spark = by_name["dvt run --compute spark -> pg (whole command)"]
        print(
            f"  dvt on Spark / Spark JDBC script -> pg: {on_spark / spark_script:.2f}   (goal <= 1.2)"
        )


if __name__ == "__main__":
    main()
