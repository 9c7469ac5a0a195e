"""`dvt diff` of a PostgreSQL table against a DuckDB table that differ in 10 rows, against
copying both into one DuckDB and comparing there (the obvious hand-written way), in one run.

    .venv/bin/python bench/diff.py [--rows 10000000]

The DuckDB table is a copy of the PostgreSQL one (made before timing) with 4 values changed,
3 rows deleted and 3 added. Each measurement is a separate process; its peak memory is that
process's maximum RSS (the PostgreSQL server's own processes are not counted on either side).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import repository  # noqa: F401 - the repository root on sys.path, for tests.servers
import yaml
from federation import run_output
from tests.servers.postgres import PostgresServer

COPY_AND_EXCEPT = """
import sys, duckdb, importlib.util, pathlib
pg_dsn, duck_file = sys.argv[1:3]
def ext(name):
    spec = importlib.util.find_spec("duckdb_extension_" + name)
    return str(sorted(pathlib.Path(spec.submodule_search_locations[0]).rglob(name + ".duckdb_extension"))[-1])
con = duckdb.connect()
con.execute(f"LOAD '{ext('postgres_scanner')}'")
con.execute(f"ATTACH '{pg_dsn}' AS pg (TYPE postgres, READ_ONLY)")
con.execute(f"ATTACH '{duck_file}' AS lake (READ_ONLY)")
con.execute("CREATE TABLE a AS SELECT * FROM pg.public.orders")
con.execute("CREATE TABLE b AS SELECT * FROM lake.main.orders")
only_a = con.execute("SELECT count(*) FROM (SELECT * FROM a EXCEPT ALL SELECT * FROM b)").fetchone()[0]
only_b = con.execute("SELECT count(*) FROM (SELECT * FROM b EXCEPT ALL SELECT * FROM a)").fetchone()[0]
print(f"only in A {only_a}, only in B {only_b}")
"""

COPY_TO_DUCKDB = """
import sys, duckdb
from dvt.embedded import extension_path
pg_dsn, duck_file, planted = sys.argv[1:4]
with duckdb.connect(duck_file) as conn:
    conn.execute(f"LOAD '{extension_path('postgres_scanner')}'")
    conn.execute(f"ATTACH '{pg_dsn}' AS pg (TYPE postgres, READ_ONLY)")
    conn.execute("CREATE TABLE main.orders AS SELECT * FROM pg.public.orders")
    conn.execute("DETACH pg")
    conn.execute(planted)
"""

PLANTED = """
UPDATE main.orders SET amount = amount + 0.01 WHERE id IN (11, 222222);
UPDATE main.orders SET note = 'changed' WHERE id = 3333;
UPDATE main.orders SET ts = ts + INTERVAL 1 SECOND WHERE id = {last};
DELETE FROM main.orders WHERE id IN (5, 55555, {near_last});
INSERT INTO main.orders SELECT id + {rows}, customer_id, amount, ts, note, paid
    FROM main.orders WHERE id IN (1, 2, 3);
"""


def load(server: PostgresServer, duck_file: Path, rows: int) -> None:
    """The PostgreSQL table, and the DuckDB copy with the 10 planted differences."""
    server.create_database("bench")
    server.psql(
        "create table public.orders (id bigint primary key, customer_id integer, "
        "amount numeric(12,2), ts timestamp, note text, paid boolean); "
        "insert into public.orders select g, g % 50000, ((g % 100000) / 100.0)::numeric(12,2), "
        "timestamp '2024-01-01' + g * interval '1 second', md5(g::text), g % 3 = 0 "
        f"from generate_series(1, {rows}) g",
        "bench",
    )
    server.psql("vacuum analyze public.orders", "bench")
    # In a process of its own: a child's peak RSS starts at its parent's (Linux keeps the
    # high-water mark across fork and exec), so this process stays small for the measurements.
    planted = PLANTED.format(rows=rows, last=rows, near_last=rows - 1)
    run_output(
        [sys.executable, "-c", COPY_TO_DUCKDB, server.dsn_for("bench"), str(duck_file), planted]
    )


def write_project(root: Path, server: PostgresServer, duck_file: Path) -> None:
    root.mkdir(parents=True)
    (root / "dbt_project.yml").write_text("name: diffbench\nversion: '1.0'\nprofile: diffbench\n")
    outputs = {
        "pg": {
            "type": "postgres",
            "host": server.host,
            "port": server.port,
            "user": server.user,
            "password": server.password,
            "dbname": "bench",
            "schema": "public",
            "threads": 1,
        },
        "duck": {"type": "duckdb", "path": str(duck_file), "schema": "main", "threads": 1},
    }
    (root / "profiles.yml").write_text(
        yaml.safe_dump({"diffbench": {"target": "pg", "outputs": outputs}})
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    args = parser.parse_args()
    python = sys.executable
    with tempfile.TemporaryDirectory() as folder, PostgresServer.start() as server:
        root = Path(folder)
        duck_file = root / "lake.duckdb"
        load(server, duck_file, args.rows)
        project = root / "project"
        write_project(project, server, duck_file)
        dvt = [python, "-c", "import sys; from dvt.cli.main import cli; sys.exit(cli())"]
        where = ["--project-dir", str(project), "--profiles-dir", str(project)]
        run_output([*dvt, "parse", *where])  # warm: partial parsing, as a user's second run
        # What any dvt command costs before it does anything (dbt's start-up, a warm parse).
        parse_s, parse_peak, _ = run_output([*dvt, "parse", *where])
        sides = ["pg:public.orders", "duck:main.orders", "--key", "id"]
        diff_s, diff_peak, output = run_output(
            [*dvt, "diff", *sides, "--output", "json", "--quiet", *where], expect=1
        )
        found = json.loads(next(line for line in output.splitlines() if line.startswith("{")))
        counts = (found["rows_changed"], found["rows_only_in_a"], found["rows_only_in_b"])
        if counts != (4, 3, 3):
            raise SystemExit(f"dvt diff found {counts} (changed, only in A, only in B)")
        copy_s, copy_peak, copied = run_output(
            [python, "-c", COPY_AND_EXCEPT, server.dsn_for("bench"), str(duck_file)]
        )
        if "only in A 7, only in B 7" not in copied:
            raise SystemExit(f"the copy-and-EXCEPT script found: {copied}")
    print(f"diff: {args.rows:,}-row PostgreSQL table against a DuckDB table, 10 rows differ")
    print(
        f"  dvt diff --key id (whole command)          {diff_s:7.2f} s  peak {diff_peak:6.0f} MiB"
        f"  {found['rows_fetched']:,} rows fetched, {found['buckets_differing']} buckets"
    )
    print(
        f"  dvt parse (start-up of any dvt command)     {parse_s:7.2f} s  peak {parse_peak:6.0f} MiB"
    )
    print(
        f"  copy both into DuckDB, EXCEPT ALL both ways {copy_s:7.2f} s  peak {copy_peak:6.0f} MiB"
    )
    print(f"  ratio copy / dvt diff: {copy_s / diff_s:.2f}  (goal > 1; peak goal < 1024 MiB)")


if __name__ == "__main__":
    main()
