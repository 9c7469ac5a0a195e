"""Buckets (buckets.yml): federation staged as Parquet files in a local folder or on an
S3-compatible server (moto's, on 127.0.0.1) gives the rows of the direct path, leaves no files
behind unless asked, and never shows a credential."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from tests.functional.databases import duck_rows, pg_rows
from tests.functional.projects import Project
from tests.functional.test_federation import fed  # noqa: F401 - the shared project fixture
from tests.servers.postgres import PostgresServer, free_port

pytestmark = [pytest.mark.postgres, pytest.mark.duckdb, pytest.mark.sqlite]

KEY_ENV, SECRET_ENV = "DVT_TEST_S3_KEY", "DVT_TEST_S3_SECRET"
FAILING = {
    # Fails on PostgreSQL, after its remote input was imported ('Ann' is no integer).
    "models/broken_cast.sql": """\
        {{ config(materialized='table') }}
        select cast(c.name as integer) as n, o.amount
        from {{ source('crm', 'customers') }} c
        join {{ source('shop', 'orders') }} o on o.customer_id = c.id
        """,
    # Fails on the target, after the result was staged and loaded.
    "models/broken_hook.sql": """\
        {{ config(materialized='table', post_hook='select * from no_such_table') }}
        select c.id, o.amount
        from {{ source('crm', 'customers') }} c
        join {{ source('shop', 'orders') }} o on o.customer_id = c.id
        """,
}


@dataclass
class S3:
    endpoint: str
    bucket: str
    key: str
    secret: str

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=self.key,
            aws_secret_access_key=self.secret,
        )

    def keys(self, prefix: str = "") -> list[str]:
        listed = self.client().list_objects_v2(Bucket=self.bucket, Prefix=prefix)
        return [o["Key"] for o in listed.get("Contents", [])]


@pytest.fixture(scope="module")
def s3_server() -> Iterator[str]:
    """moto's S3 server on a free port of 127.0.0.1, for this module's tests."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3(s3_server: str, monkeypatch: pytest.MonkeyPatch) -> S3:
    store = S3(s3_server, f"dvt-{uuid.uuid4().hex[:12]}", "AKIDVTTEST", f"s3cr3t-{uuid.uuid4()}")
    monkeypatch.setenv(KEY_ENV, store.key)
    monkeypatch.setenv(SECRET_ENV, store.secret)
    store.client().create_bucket(Bucket=store.bucket)
    return store


def write_buckets(project: Project, s3: S3, default: str | None = None, **extra: Any) -> Path:
    """buckets.yml with a local folder, the moto bucket and `extra` buckets; returns the folder."""
    folder = project.root / "staging"
    buckets = {
        "local": {"type": "local", "path": "staging"},  # relative to buckets.yml
        "s3": {
            "type": "s3",
            "bucket": s3.bucket,
            "prefix": "dvt/stage",
            "endpoint_url": s3.endpoint,
            "region": "us-east-1",
            "access_key_id_env": KEY_ENV,
            "secret_access_key_env": SECRET_ENV,
        },
        **extra,
    }
    section: dict[str, Any] = {"buckets": buckets, **({"target": default} if default else {})}
    (project.root / "buckets.yml").write_text(yaml.safe_dump({project.profile: section}))
    return folder


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def model_rows(project: Project, postgres: PostgresServer) -> dict[str, list[tuple[Any, ...]]]:
    duck_file = project.duck_file  # type: ignore[attr-defined]
    return {
        "customer_orders": pg_rows(
            postgres,
            project.database,  # type: ignore[attr-defined]
            "analytics.customer_orders",
        ),
        **{
            name: duck_rows(duck_file, f"lake.lake.{name}")
            for name in ("big_orders", "active_big_spenders", "orders_incremental")
        },
    }


def dvt_of(result: Any) -> dict[str, dict[str, Any]]:
    return {
        r.node.unique_id: (r.adapter_response or {}).get("dvt", {}) for r in result.result.results
    }


def test_local_and_s3_buckets_give_the_direct_rows(
    fed: Project,  # noqa: F811
    postgres: PostgresServer,
    s3: S3,
) -> None:
    direct = fed.dvt("run")
    assert direct.success, direct.exception
    expected = model_rows(fed, postgres)
    assert expected["customer_orders"]  # the suite's rows, not an empty answer
    assert "bucket" not in dvt_of(direct)["model.fed.customer_orders"]
    folder = write_buckets(fed, s3)
    for bucket in ("local", "s3"):
        staged = fed.dvt("run", "--full-refresh", "--bucket", bucket)
        assert staged.success, staged.exception
        assert model_rows(fed, postgres) == expected, bucket
        where = dvt_of(staged)
        assert where["model.fed.customer_orders"]["bucket"] == bucket
        assert where["model.fed.customer_orders"]["rows"] == 3
        assert [e["rows"] for e in where["model.fed.big_orders"]["extractions"]] == [2, 4]
        assert "bucket" not in where["model.fed.duck_countries"]  # pushdown stages nothing
    # Each node's files are gone once it finished.
    assert files_under(folder) == []
    assert s3.keys() == []


def test_a_default_bucket_and_keep_staged(
    fed: Project,  # noqa: F811
    s3: S3,
) -> None:
    folder = write_buckets(fed, s3, default="local")
    (fed.root / "models" / "customer_orders.sql").write_text(
        "{{ config(keep_staged=true) }}\n"
        + (fed.root / "models" / "customer_orders.sql").read_text()
    )
    (fed.root / "models" / "lake" / "big_orders.sql").write_text(
        "{{ config(bucket='s3', keep_staged=true) }}\n"
        + (fed.root / "models" / "lake" / "big_orders.sql").read_text()
    )
    result = fed.dvt("run", "--placement", "engine")
    assert result.success, result.exception
    where = dvt_of(result)
    assert where["model.fed.customer_orders"]["bucket"] == "local"  # the profile's default
    assert where["model.fed.big_orders"]["bucket"] == "s3"  # the model's config
    # Kept files: each input and the result, as Parquet the engine wrote.
    kept = files_under(folder)
    assert {p.parent.name for p in kept} == {"dvt_in_0", "dvt_in_1", "dvt_in_2", "result"}
    assert all(p.parent.parent.name == "model.fed.customer_orders" for p in kept)
    result_files = str(folder / "*" / "model.fed.customer_orders" / "result" / "*.parquet")
    with duckdb.connect() as conn:
        assert conn.execute(f"select count(*) from read_parquet('{result_files}')").fetchone() == (
            3,
        )
    on_s3 = s3.keys("dvt/stage/")
    assert {k.split("/")[-2] for k in on_s3} == {"dvt_in_0", "dvt_in_1", "result"}
    assert all(k.endswith(".parquet") and "/model.fed.big_orders/" in k for k in on_s3)
    # Other nodes staged in the default bucket and removed their files.
    assert not any("active_big_spenders" in str(p) for p in kept)


def test_a_failed_node_leaves_no_staged_files(
    fed: Project,  # noqa: F811
    s3: S3,
) -> None:
    fed.write(FAILING)
    folder = write_buckets(fed, s3)
    for bucket in ("local", "s3"):
        failed = fed.dvt("run", "--bucket", bucket, "--select", "broken_cast", "broken_hook")
        assert not failed.success
        statuses = {r.node.name: str(r.status) for r in failed.result.results}
        assert statuses == {"broken_cast": "error", "broken_hook": "error"}, bucket
        messages = " ".join(str(r.message) for r in failed.result.results)
        assert 'invalid input syntax for type integer: "Ann"' in messages  # on PostgreSQL
        assert "no_such_table" in messages
        assert files_under(folder) == [], bucket
        assert s3.keys() == [], bucket


def test_credentials_never_appear_in_output_logs_or_artifacts(
    fed: Project,  # noqa: F811
    s3: S3,
) -> None:
    fed.write(FAILING)
    write_buckets(fed, s3, default="s3")
    ran = fed.cli("dvt", "--debug", "run")
    assert ran.returncode == 1, ran.stdout[-3000:]  # the two broken models fail
    assert "Completed with 2 errors" in ran.stdout
    checked = ran.stdout + ran.stderr
    for folder in ("target", "logs"):
        for path in files_under(fed.root / folder):
            checked += path.read_text(errors="replace")
    # The S3 bucket was really used: nodes staged through it succeeded.
    staged = [
        r["unique_id"]
        for r in fed.artifact("run_results.json")["results"]
        if r["status"] == "success" and r["adapter_response"].get("dvt", {}).get("bucket") == "s3"
    ]
    assert "model.fed.customer_orders" in staged, staged
    assert s3.secret not in checked
    assert s3.keys() == []


def test_debug_checks_every_bucket(
    fed: Project,  # noqa: F811
    s3: S3,
) -> None:
    write_buckets(fed, s3, default="local")
    healthy = fed.cli("dvt", "debug")
    assert healthy.returncode == 0, healthy.stdout[-3000:]
    assert "Buckets:" in healthy.stdout
    local = line_of(healthy.stdout, "local (local)")
    assert "OK" in local and "writable" in local and "(default)" in local
    assert "OK" in line_of(healthy.stdout, "s3 (s3)")
    assert s3.keys() == []  # the probe was removed
    down = {**_s3_options(s3), "endpoint_url": f"http://127.0.0.1:{free_port()}"}
    write_buckets(fed, s3, stopped=down)
    broken = fed.cli("dvt", "debug")
    assert broken.returncode == 1
    assert "ERROR" in line_of(broken.stdout, "stopped (s3)")
    assert "OK" in line_of(broken.stdout, "s3 (s3)")
    assert s3.secret not in broken.stdout + broken.stderr


def line_of(output: str, label: str) -> str:
    (line,) = [line for line in output.splitlines() if f"  {label} [" in line]
    return line


def _s3_options(s3: S3) -> dict[str, Any]:
    return {
        "type": "s3",
        "bucket": s3.bucket,
        "endpoint_url": s3.endpoint,
        "access_key_id_env": KEY_ENV,
        "secret_access_key_env": SECRET_ENV,
    }


def test_unknown_bucket_and_malformed_file_are_clear_errors(
    fed: Project,  # noqa: F811
    s3: S3,
) -> None:
    write_buckets(fed, s3)
    unknown = fed.cli("dvt", "run", "--bucket", "nope")
    assert unknown.returncode != 0
    assert "[DVT102]" in unknown.stdout and "'nope'" in unknown.stdout
    assert "'local', 's3'" in unknown.stdout  # the buckets that do exist
    (fed.root / "buckets.yml").write_text("test:\n  buckets:\n    bad: {type: ftp}\n")
    wrong_type = fed.cli("dvt", "run")
    assert "buckets.yml, line 3" in wrong_type.stdout and "'local', 's3'" in wrong_type.stdout
    (fed.root / "buckets.yml").write_text("test: [unclosed\n")
    malformed = fed.cli("dvt", "run")
    assert malformed.returncode != 0
    assert str(fed.root / "buckets.yml") in malformed.stdout


@pytest.mark.spark
def test_spark_stages_in_a_local_bucket(
    fed: Project,  # noqa: F811
    postgres: PostgresServer,
    s3: S3,
) -> None:
    direct = fed.cli("dvt", "run")
    assert direct.returncode == 0, direct.stdout[-3000:]
    expected = model_rows(fed, postgres)
    folder = write_buckets(fed, s3, default="local")
    on_spark = fed.cli(
        "dvt", "run", "--full-refresh", "--compute", "spark", "--placement", "engine"
    )
    assert on_spark.returncode == 0, on_spark.stdout[-3000:]
    assert model_rows(fed, postgres) == expected
    where = {
        r["unique_id"]: r["adapter_response"]["dvt"]
        for r in fed.artifact("run_results.json")["results"]
    }
    assert where["model.fed.customer_orders"]["compute"] == "spark"
    assert where["model.fed.customer_orders"]["bucket"] == "local"
    assert files_under(folder) == []
    # Spark reads no S3 bucket here: a clear error, not a wrong answer.
    on_s3 = fed.cli(
        "dvt", "run", "--compute", "spark", "--placement", "engine", "--bucket", "s3",
        "--select", "big_orders",
    )  # fmt: skip
    assert on_s3.returncode == 1
    assert "[DVT105]" in on_s3.stdout and "stages only in local buckets" in on_s3.stdout
