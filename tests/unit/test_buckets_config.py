"""buckets.yml: parsing, errors naming file and line, credentials only from the environment, and
the SQL that gives DuckDB access to a bucket."""

from __future__ import annotations

from pathlib import Path

import pytest

from dvt.config.buckets import Buckets, BucketsFileError
from dvt.exceptions import UnknownBucketError
from dvt.staging import Staging, duckdb_setup

BUCKETS = """\
prof:
  target: scratch
  buckets:
    scratch: {type: local, path: stage}
    lake:
      type: s3
      bucket: my-bucket
      prefix: /dvt/runs/
      endpoint_url: http://127.0.0.1:9000
      region: eu-west-1
      access_key_id_env: MY_KEY
      secret_access_key_env: MY_SECRET
"""


def load(tmp_path: Path, text: str, profile: str = "prof") -> Buckets:
    (tmp_path / "buckets.yml").write_text(text)
    return Buckets.load(str(tmp_path), profile)


def test_without_the_file_there_is_no_bucket(tmp_path: Path) -> None:
    buckets = Buckets.load(str(tmp_path), "prof")
    assert buckets.default is None and dict(buckets.specs) == {}


def test_local_and_s3_buckets(tmp_path: Path) -> None:
    buckets = load(tmp_path, BUCKETS)
    assert buckets.default == "scratch"
    assert buckets.specs["scratch"].root == str(tmp_path / "stage")  # beside buckets.yml
    lake = buckets.specs["lake"]
    assert lake.root == "s3://my-bucket/dvt/runs"
    assert dict(lake.credential_envs)["secret_access_key_env"] == "MY_SECRET"
    staging = Staging(lake, "inv-1", "model.p.m", keep=False)
    assert staging.folder("result") == "s3://my-bucket/dvt/runs/inv-1/model.p.m/result"
    assert "read_parquet('s3://my-bucket/dvt/runs/inv-1/model.p.m/dvt_in_0/*.parquet')" in (
        staging.read_sql("dvt_in_0")
    )


def test_s3_credentials_come_from_the_named_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake = load(tmp_path, BUCKETS).specs["lake"]
    monkeypatch.delenv("MY_SECRET", raising=False)
    monkeypatch.setenv("MY_KEY", "AKID")
    with pytest.raises(BucketsFileError, match="'MY_SECRET', which is not set"):
        lake.credentials()
    monkeypatch.setenv("MY_SECRET", "very-secret")
    (load_ext, secret) = duckdb_setup(lake)
    assert load_ext.startswith("LOAD '") and load_ext.endswith("httpfs.duckdb_extension'")
    assert "KEY_ID 'AKID'" in secret and "SECRET 'very-secret'" in secret
    assert "ENDPOINT '127.0.0.1:9000'" in secret and "USE_SSL false" in secret
    assert "URL_STYLE 'path'" in secret and "SCOPE 's3://my-bucket'" in secret
    assert load(tmp_path, BUCKETS).redact("key=very-secret") == "key=*****"


def test_unknown_names_are_dvt102_listing_the_buckets(tmp_path: Path) -> None:
    buckets = load(tmp_path, BUCKETS)
    with pytest.raises(UnknownBucketError, match=r"\[DVT102\].*'nope'.*'lake', 'scratch'"):
        buckets.require("nope", used_by="model m")
    with pytest.raises(UnknownBucketError, match="line 2, key `target`"):
        load(tmp_path, BUCKETS.replace("target: scratch", "target: missing"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("prof:\n  buckets:\n    b: {type: ftp}\n", r"buckets.yml, line 3: .*'local', 's3'"),
        ("prof:\n  buckets:\n    b: {type: local}\n", r"line 3: local bucket 'b' needs `path:`"),
        ("prof:\n  buckets:\n    b: {type: s3, prefix: x}\n", "needs `bucket:`"),
        ("prof:\n  buckets:\n    b: {type: local, path: x, pth: y}\n", "unknown key.*'pth'"),
        (
            "prof:\n  buckets:\n    b:\n      type: s3\n      bucket: x\n      endpoint_url: ftp://h\n",
            "line 6: .*http:// or https://",
        ),
        ("prof: [unclosed\n", r"buckets.yml, line \d+: not valid YAML"),
        ("prof:\n  bucket:\n    b: {type: local, path: x}\n", r"line 2: unknown key `bucket`"),
    ],
)
def test_malformed_files_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(BucketsFileError, match=message):
        load(tmp_path, text)
