"""Seed speed: `dvt seed` of a generated CSV into PostgreSQL and into DuckDB, against the
databases' own bulk paths and `dbt seed`, all measured in the same run.

    .venv/bin/python bench/seeds.py [--rows 1000000] [--dbt-rows 100000] [--skip-dbt]

Columns: integer, numeric (two decimals), text, date, timestamp, boolean. Baselines:
`psql \\copy` of the same file into a table of the same types (PostgreSQL's floor), DuckDB's
`read_csv` into a table (DuckDB's floor), and `dbt seed` into PostgreSQL on the first
`--dbt-rows` rows, compared in rows per second. Each measurement is its own process; "node" is
the seed's time in run_results.json, "command" the whole process; peak resident memory is the
process's maximum RSS.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import repository  # noqa: F401 - the repository root on sys.path, for tests.servers
from federation import run_process, write_profiles
from tests.servers.postgres import PostgresServer

GENERATE = """
COPY (
  SELECT range AS id,
         round((range % 100000) / 100.0 + 0.01, 2) AS amount,
         'customer ' || (range % 50000) || CASE WHEN range % 10 = 0 THEN ', ltd' ELSE '' END AS name,
         DATE '2020-01-01' + (range % 2000)::INTEGER AS day,
         TIMESTAMP '2020-01-01 00:00:00' + to_seconds(range) AS ts,
         range % 3 = 0 AS flag
  FROM range(1, {rows} + 1)
) TO '{path}' (HEADER, DELIMITER ',')
"""

DUCKDB_FLOOR = """
import sys, time, duckdb
csv, database = sys.argv[1:3]
con = duckdb.connect(database)
con.execute("SET enable_progress_bar = false")
start = time.perf_counter()
con.execute(f"create or replace table floor as select * from read_csv('{csv}', header = true)")
print(time.perf_counter() - start)
"""


def write_project(root: Path, server: PostgresServer, duck_file: Path, csv: Path) -> None:
    (root / "seeds").mkdir(parents=True)
    (root / "seeds" / "big.csv").symlink_to(csv)
    (root / "dbt_project.yml").write_text("name: seedbench\nversion: '1.0'\nprofile: seedbench\n")
    write_profiles(root, "seedbench", server, duck_file, "main")


def seed(tool: str, root: Path, target: str) -> tuple[float, float, float]:
    """(node seconds, command seconds, peak MiB) of one `dvt seed` / `dbt seed` process."""
    command = [
        str(Path(sys.executable).with_name(tool)),
        "seed",
        "--full-refresh",
        "--target",
        target,
        "--project-dir",
        str(root),
        "--profiles-dir",
        str(root),
    ]
    elapsed, peak = run_process(command, cwd=root)
    results = json.loads((root / "target" / "run_results.json").read_text())["results"]
    return results[0]["execution_time"], elapsed, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dbt-rows", type=int, default=100_000)
    parser.add_argument("--skip-dbt", action="store_true", help="skip the slow dbt seed baseline")
    args = parser.parse_args()

    import duckdb

    with tempfile.TemporaryDirectory() as tmp, PostgresServer.start() as server:
        work = Path(tmp)
        server.create_database("bench")
        csv = work / "big.csv"
        duckdb.connect().execute(GENERATE.format(rows=args.rows, path=csv))
        size = csv.stat().st_size / 2**20
        print(f"CSV: {args.rows:,} rows, {size:.0f} MiB")
        write_project(work / "dvt", server, work / "dvt.duckdb", csv)

        pg_node, pg_cmd, pg_peak = seed("dvt", work / "dvt", "pg")
        server.psql("create table public.floor (like public.big)", "bench")
        copy = [
            "psql",
            server.dsn_for("bench"),
            "-X",
            "-q",
            "-c",
            f"\\copy public.floor from '{csv}' csv header",
        ]
        pg_floor, _ = run_process(copy)
        loaded = server.psql("select count(*) from public.big", "bench")
        assert int(loaded) == args.rows, loaded

        duck_node, duck_cmd, duck_peak = seed("dvt", work / "dvt", "duck")
        floor_run = subprocess.run(
            [sys.executable, "-c", DUCKDB_FLOOR, str(csv), str(work / "floor.duckdb")],
            capture_output=True,
            text=True,
            check=True,
        )
        duck_floor = float(floor_run.stdout.split()[-1])

        print(
            f"{'':28}{'node s':>9}{'command s':>11}{'floor s':>9}{'node/floor':>12}{'peak MiB':>10}"
        )
        print(
            f"{'dvt seed -> PostgreSQL':28}{pg_node:9.2f}{pg_cmd:11.2f}{pg_floor:9.2f}{pg_node / pg_floor:12.2f}{pg_peak:10.0f}"
        )
        print(
            f"{'dvt seed -> DuckDB':28}{duck_node:9.2f}{duck_cmd:11.2f}{duck_floor:9.2f}{duck_node / duck_floor:12.2f}{duck_peak:10.0f}"
        )
        print(
            "floors: psql \\copy (whole process) for PostgreSQL, read_csv into a table for DuckDB"
        )

        if not args.skip_dbt:
            small = work / "small.csv"
            with csv.open() as src, small.open("w") as dst:
                for i, line in enumerate(src):
                    if i > args.dbt_rows:
                        break
                    dst.write(line)
            write_project(work / "dbt", server, work / "dbt.duckdb", small)
            for target, name, dvt_node in (
                ("pg", "PostgreSQL", pg_node),
                ("duck", "DuckDB", duck_node),
            ):
                dbt_node, _, _ = seed("dbt", work / "dbt", target)
                dbt_rate = args.dbt_rows / dbt_node
                dvt_rate = args.rows / dvt_node
                print(
                    f"dbt seed -> {name}: {args.dbt_rows:,} rows in {dbt_node:.1f} s "
                    f"({dbt_rate:,.0f} rows/s); dvt: {dvt_rate:,.0f} rows/s = {dvt_rate / dbt_rate:.0f}x"
                )


if __name__ == "__main__":
    main()
