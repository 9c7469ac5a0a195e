"""Staging a federated node's data as Parquet files in a bucket (buckets.yml).

Each node gets a folder `<bucket root>/<invocation id>/<node unique_id>/` holding one subfolder
per extracted input (`dvt_in_0/`, ...) and one for the result (`result/`), each a set of Parquet
files that DuckDB writes while the stream passes (`COPY ... TO` rolls files over at
`FILE_SIZE`). The engine reads the inputs from there, targets that load files natively read the
result from there, and the folder is removed when the node ends unless the model sets
`keep_staged: true`.

Reads and writes go through DuckDB (the `httpfs` extension for S3, from its PyPI package, with a
secret built from the environment variables buckets.yml names); listing and removing S3 objects
goes through boto3. Credential values never enter SQL that dbt logs, or any message.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from typing import Any, Protocol
from urllib.parse import urlparse

from dvt import events
from dvt.config.buckets import BucketSpec
from dvt.embedded import register_stream
from dvt.exceptions import EngineUnavailableError
from dvt.quoting import quote_literal


class Attaching(Protocol):
    """An engine that loads an extension and runs set-up statements once per invocation."""

    def attach_once(self, alias: str, extension: str, statements: list[str]) -> None: ...


#: Size at which DuckDB starts the next Parquet file of one staged stream.
FILE_SIZE = "64MB"
RESULT = "result"


def duckdb_setup(bucket: BucketSpec) -> list[str]:
    """Statements that let a DuckDB database read and write the bucket (none for a folder)."""
    if bucket.type == "local":
        return []
    from dvt.embedded import extension_path

    fields = {"TYPE": "s3", "SCOPE": f"s3://{bucket.bucket}"}
    credentials = bucket.credentials()
    fields["KEY_ID"] = credentials.get("access_key_id", "")
    fields["SECRET"] = credentials.get("secret_access_key", "")
    if "session_token" in credentials:
        fields["SESSION_TOKEN"] = credentials["session_token"]
    if bucket.region:
        fields["REGION"] = bucket.region
    if bucket.endpoint_url:
        endpoint = urlparse(bucket.endpoint_url)
        fields["ENDPOINT"] = endpoint.netloc
        fields["USE_SSL"] = "true" if endpoint.scheme == "https" else "false"
    fields["URL_STYLE"] = bucket.url_style or ("path" if bucket.endpoint_url else "vhost")
    body = ", ".join(
        f"{k} {v}" if k in ("TYPE", "USE_SSL") else f"{k} {quote_literal(v)}"
        for k, v in fields.items()
    )
    return [
        f"LOAD {quote_literal(str(extension_path('httpfs')))}",
        f"CREATE OR REPLACE SECRET {secret_name(bucket)} ({body})",
    ]


def secret_name(bucket: BucketSpec) -> str:
    return "dvt_bucket_" + re.sub(r"\W", "_", bucket.name)


def s3_client(bucket: BucketSpec) -> Any:
    """A boto3 S3 client for the bucket's endpoint, with its credentials."""
    try:
        import boto3
    except ImportError:
        raise EngineUnavailableError(
            f"Bucket {bucket.name!r} is on S3, which needs boto3: pip install boto3."
        ) from None
    credentials = bucket.credentials()
    return boto3.client(
        "s3",
        endpoint_url=bucket.endpoint_url,
        region_name=bucket.region or "us-east-1",
        aws_access_key_id=credentials.get("access_key_id"),
        aws_secret_access_key=credentials.get("secret_access_key"),
        aws_session_token=credentials.get("session_token"),
    )


def remove_prefix(bucket: BucketSpec, url: str) -> None:
    """Delete every file under `url` (a folder of a local bucket, or an S3 key prefix)."""
    if bucket.type == "local":
        shutil.rmtree(url, ignore_errors=True)
        return
    client = s3_client(bucket)
    prefix = url.removeprefix(f"s3://{bucket.bucket}/").rstrip("/") + "/"
    for page in client.get_paginator("list_objects_v2").paginate(
        Bucket=bucket.bucket, Prefix=prefix
    ):
        keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if keys:
            client.delete_objects(Bucket=bucket.bucket, Delete={"Objects": keys, "Quiet": True})


class Staging:
    """One node's folder in a bucket; created on first write, removed by `close()`."""

    def __init__(self, bucket: BucketSpec, invocation_id: str, node_id: str, *, keep: bool) -> None:
        self.bucket = bucket
        self.invocation_id = invocation_id
        self.url = f"{bucket.root}/{invocation_id}/{node_id}"
        self.keep = keep
        self._used = False

    def folder(self, name: str) -> str:
        return f"{self.url}/{name}"

    def read_sql(self, name: str) -> str:
        """Engine SQL reading one staged stream back."""
        return f"SELECT * FROM read_parquet({quote_literal(self.folder(name) + '/*.parquet')})"

    def prepare(self, engine: Attaching) -> None:
        """Give the engine access to the bucket (once per invocation) and create the folder."""
        self._used = True
        if self.bucket.type == "local":
            for _ in range(3):  # another node may remove the invocation's folder, once empty
                try:
                    os.makedirs(self.url, exist_ok=True)
                    return
                except FileNotFoundError:
                    continue
            os.makedirs(self.url, exist_ok=True)
            return
        statements = duckdb_setup(self.bucket)
        engine.attach_once(secret_name(self.bucket), "httpfs", statements[1:])

    def write(self, cursor: Any, sql: str, name: str) -> int:
        """Run `sql` on an engine cursor, stream its rows into Parquet files under `name/` and
        return how many were written."""
        (rows,) = cursor.execute(
            f"COPY ({sql}) TO {quote_literal(self.folder(name))} "
            f"(FORMAT parquet, FILE_SIZE_BYTES {quote_literal(FILE_SIZE)})"
        ).fetchone()
        return int(rows)

    def write_stream(self, cursor: Any, reader: Any, name: str) -> None:
        """Stream an Arrow record batch reader into Parquet files under `name/`."""
        view = f"{name}__dvt_extract"
        register_stream(cursor, view, reader)
        try:
            self.write(cursor, f"SELECT * FROM {view}", name)
        finally:
            cursor.unregister(view)

    def close(self) -> None:
        """Remove the node's files, unless the model keeps them for debugging."""
        if not self._used:
            return
        if self.keep:
            events.info(f"Staged files kept (keep_staged: true) in {self.url}")
            return
        remove_prefix(self.bucket, self.url)
        if self.bucket.type == "local":
            with contextlib.suppress(OSError):  # the invocation's folder, once empty
                os.rmdir(os.path.dirname(self.url))
