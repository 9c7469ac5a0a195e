"""DVT's overhead on a single-target project: `dbt run` vs `dvt run`, 50 models, same run.

    .venv/bin/python bench/overhead.py [--models 50] [--repeat 5] [--target duckdb|postgres]

Each tool runs the same freshly generated project `--repeat` times, alternating, as separate
processes (what a user types). Prints the median wall time of each and their ratio (goal <= 1.05).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import repository  # noqa: F401 - the repository root on sys.path, for tests.servers
import yaml


def write_project(root: Path, models: int, output: dict[str, object]) -> None:
    (root / "models").mkdir(parents=True)
    (root / "dbt_project.yml").write_text("name: bench\nversion: '1.0'\nprofile: bench\n")
    (root / "profiles.yml").write_text(
        yaml.safe_dump({"bench": {"target": "db", "outputs": {"db": output}}})
    )
    (root / "models" / "m000.sql").write_text("{{ config(materialized='table') }} select 1 as id")
    for i in range(1, models):
        parent = f"m{(i - 1) // 2:03d}"
        kind = "table" if i % 3 else "view"
        (root / "models" / f"m{i:03d}.sql").write_text(
            f"{{{{ config(materialized='{kind}') }}}} select id + {i} as id from {{{{ ref('{parent}') }}}}"
        )


def timed(tool: str, root: Path) -> float:
    code = f"import sys; from {tool}.cli.main import cli; sys.exit(cli())"
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "run",
            "--project-dir",
            str(root),
            "--profiles-dir",
            str(root),
        ],
        check=True,
        capture_output=True,
        env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--target", choices=["duckdb", "postgres"], default="duckdb")
    args = parser.parse_args()
    server = None
    with tempfile.TemporaryDirectory() as folder:
        roots = {tool: Path(folder) / tool for tool in ("dbt", "dvt")}
        for tool, root in roots.items():
            if args.target == "postgres":
                from tests.servers.postgres import PostgresServer

                server = server or PostgresServer.start()
                server.create_database(tool)
                output = {
                    "type": "postgres",
                    "host": server.host,
                    "port": server.port,
                    "user": server.user,
                    "password": server.password,
                    "dbname": tool,
                    "schema": "bench",
                    "threads": 4,
                }
            else:
                output = {
                    "type": "duckdb",
                    "path": str(Path(folder) / f"{tool}.duckdb"),
                    "schema": "bench",
                    "threads": 4,
                }
            write_project(root, args.models, output)
        try:
            for tool, root in roots.items():  # warm-up: partial parse files, OS caches
                timed(tool, root)
            times: dict[str, list[float]] = {"dbt": [], "dvt": []}
            for _ in range(args.repeat):
                for tool, root in roots.items():
                    times[tool].append(timed(tool, root))
        finally:
            if server is not None:
                server.stop()
    dbt_median, dvt_median = (statistics.median(times[t]) for t in ("dbt", "dvt"))
    print(
        f"single-target overhead, {args.models} models on {args.target}, median of {args.repeat} runs"
    )
    print(f"  dbt run  {dbt_median:6.2f} s   (runs: {', '.join(f'{t:.2f}' for t in times['dbt'])})")
    print(f"  dvt run  {dvt_median:6.2f} s   (runs: {', '.join(f'{t:.2f}' for t in times['dvt'])})")
    print(f"  ratio dvt/dbt = {dvt_median / dbt_median:.3f}   (goal <= 1.05)")


if __name__ == "__main__":
    main()
