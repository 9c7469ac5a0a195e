"""Cost of staging through a bucket: the federation benchmark's model (a PostgreSQL fact joined
to a DuckDB dimension) run directly and through a local folder and an S3 bucket, in one run.

    .venv/bin/python bench/buckets.py [--rows 1000000] [--dims 10000] [--bucket local|s3|both]

The S3 bucket is moto's server on 127.0.0.1 (`pip install "moto[server]"`, in the dev extra),
so its figures include moto's own cost, which a real object store does not have.
Each `dvt run` is a separate process; peak resident memory is that process's maximum RSS.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
from pathlib import Path

import repository  # noqa: F401 - the repository root on sys.path, for tests.servers
import yaml
from federation import load_data, run_process, write_project
from tests.servers.postgres import PostgresServer, free_port

S3_BUCKET = "dvt-bench"
S3_KEY, S3_SECRET = "AKIDBENCH", "bench-secret"


def write_buckets(project: Path, endpoint: str | None) -> None:
    buckets: dict[str, object] = {"local": {"type": "local", "path": str(project / "staging")}}
    if endpoint:
        buckets["s3"] = {
            "type": "s3",
            "bucket": S3_BUCKET,
            "prefix": "stage",
            "endpoint_url": endpoint,
            "region": "us-east-1",
            "access_key_id_env": "DVT_BENCH_S3_KEY",
            "secret_access_key_env": "DVT_BENCH_S3_SECRET",
        }
    (project / "buckets.yml").write_text(yaml.safe_dump({"fedbench": {"buckets": buckets}}))


def start_moto() -> tuple[object, str]:
    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=S3_KEY,
        aws_secret_access_key=S3_SECRET,
    ).create_bucket(Bucket=S3_BUCKET)
    os.environ.update(DVT_BENCH_S3_KEY=S3_KEY, DVT_BENCH_S3_SECRET=S3_SECRET)
    return server, endpoint


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dims", type=int, default=10_000)
    parser.add_argument("--bucket", choices=("local", "s3", "both"), default="both")
    args = parser.parse_args()
    buckets = ["local", "s3"] if args.bucket == "both" else [args.bucket]
    python = sys.executable
    moto, endpoint = start_moto() if "s3" in buckets else (None, None)
    rows: list[tuple[str, float, float, float, str]] = []
    try:
        with tempfile.TemporaryDirectory() as folder, PostgresServer.start() as server:
            root = Path(folder)
            duck_file = root / "lake.duckdb"
            load_data(server, duck_file, args.rows, args.dims)
            project = root / "project"
            write_project(project, server, duck_file, None)
            write_buckets(project, endpoint)
            dvt = [python, "-c", "import sys; from dvt.cli.main import cli; sys.exit(cli())"]
            where = ["--project-dir", str(project), "--profiles-dir", str(project)]
            run_process([*dvt, "parse", *where])  # warm: partial parsing
            for target in ("pg", "duck"):
                for bucket in [None, *buckets]:
                    flags = ["--bucket", bucket] if bucket else []
                    seconds, peak = run_process(
                        [*dvt, "run", "--select", f"to_{target}", *flags, *where]
                    )
                    run_results = project / "target" / "run_results.json"
                    (result,) = json.loads(run_results.read_text())["results"]
                    written = result["adapter_response"]["dvt"]["rows"]
                    label = f"-> {target} " + (f"via {bucket} bucket" if bucket else "direct")
                    rows.append((label, seconds, result["execution_time"], peak, f"{written:,}"))
    finally:
        if moto is not None:
            moto.stop()  # type: ignore[attr-defined]
    print(f"buckets: {args.rows:,}-row PostgreSQL fact x {args.dims:,}-row DuckDB dimension")
    print(f"  {'path':28s} {'command':>9s} {'node':>8s} {'peak':>10s}  rows")
    for label, seconds, node, peak, written in rows:
        print(f"  {label:28s} {seconds:7.2f} s {node:6.2f} s {peak:6.0f} MiB  {written}")
    by_label = {label: node for label, _, node, _, _ in rows}
    for target in ("pg", "duck"):
        direct = by_label[f"-> {target} direct"]
        for bucket in buckets:
            staged = by_label[f"-> {target} via {bucket} bucket"]
            print(f"  node time {bucket} bucket / direct -> {target}: {staged / direct:.2f}")


if __name__ == "__main__":
    main()
