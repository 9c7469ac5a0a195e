"""buckets.yml: named places to stage federated data as Parquet files (DESIGN.md section 4).

Shaped like profiles.yml and computes.yml, beside them:

    my_profile:
      target: scratch                     # the default bucket (optional)
      buckets:
        scratch: {type: local, path: /tmp/dvt-staging}
        lake:
          type: s3
          bucket: my-bucket
          prefix: dvt/staging
          endpoint_url: http://127.0.0.1:9000   # optional, for S3-compatible servers
          region: us-east-1
          access_key_id_env: DVT_S3_KEY          # names of environment variables, never values
          secret_access_key_env: DVT_S3_SECRET

Without the file (or without a default and a `--bucket`), federation streams straight from the
engine into the target, staging nothing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from dvt.config.yaml_lines import YamlFile, load_yaml_file
from dvt.exceptions import DvtError, UnknownBucketError, names_hint

BUCKETS_FILE = "buckets.yml"
BUCKET_TYPES = frozenset({"local", "s3"})
#: Keys of an s3 bucket naming the environment variables that hold its credentials, and the
#: variables read when a key is left out (AWS's own names). A session token is optional.
DEFAULT_CREDENTIAL_ENVS: Mapping[str, str] = {
    "access_key_id_env": "AWS_ACCESS_KEY_ID",
    "secret_access_key_env": "AWS_SECRET_ACCESS_KEY",
    "session_token_env": "AWS_SESSION_TOKEN",
}
CREDENTIAL_ENVS = tuple(DEFAULT_CREDENTIAL_ENVS)
_KEYS = {
    "local": frozenset({"type", "path"}),
    "s3": frozenset({"type", "bucket", "prefix", "endpoint_url", "region", "url_style"})
    | frozenset(CREDENTIAL_ENVS),
}


class BucketsFileError(DvtError):
    code = "DVT102"


@dataclass(frozen=True)
class BucketSpec:
    """One bucket. Credentials are read from the environment when used, never stored here."""

    name: str
    type: str
    path: str = ""
    bucket: str = ""
    prefix: str = ""
    endpoint_url: str | None = None
    region: str | None = None
    url_style: str | None = None
    credential_envs: Mapping[str, str] = field(default_factory=dict, compare=False)

    @property
    def root(self) -> str:
        """Where this bucket's staged files go: an absolute folder or `s3://bucket/prefix`."""
        if self.type == "local":
            return self.path
        prefix = self.prefix.strip("/")
        return f"s3://{self.bucket}/{prefix}" if prefix else f"s3://{self.bucket}"

    def credentials(self) -> dict[str, str]:
        """`access_key_id`, `secret_access_key`, `session_token` from the named variables."""
        found = {}
        for key, variable in self.credential_envs.items():
            value = os.environ.get(variable)
            if not value and key == "session_token_env":
                continue
            if not value:
                raise BucketsFileError(
                    f"Bucket {self.name!r} reads `{key}` from environment variable "
                    f"{variable!r}, which is not set."
                )
            found[key.removesuffix("_env")] = value
        return found

    def secrets(self) -> list[str]:
        """Credential values, for redaction (unset variables are skipped)."""
        values = (os.environ.get(v) for v in self.credential_envs.values())
        return [v for v in values if v]


@dataclass(frozen=True)
class Buckets:
    """The buckets of one profile and its default bucket, if any."""

    default: str | None
    specs: Mapping[str, BucketSpec]

    def require(self, name: str, *, used_by: str) -> BucketSpec:
        if name not in self.specs:
            raise UnknownBucketError(
                f"{used_by} names bucket {name!r}, which is not defined. "
                f"Buckets: {names_hint(self.specs)} (define them in {BUCKETS_FILE} beside "
                "profiles.yml)."
            )
        return self.specs[name]

    def redact(self, text: str) -> str:
        """`text` without any bucket credential."""
        for spec in self.specs.values():
            for secret in spec.secrets():
                text = text.replace(secret, "*****")
        return text

    @classmethod
    def load(cls, profiles_dir: str, profile_name: str) -> Buckets:
        path = os.path.join(profiles_dir, BUCKETS_FILE)
        if not os.path.isfile(path):
            return cls(default=None, specs={})
        doc = load_yaml_file(path, BucketsFileError)
        raw = doc.data or {}
        if not isinstance(raw, dict):
            raise BucketsFileError(f"{path}: the file must map profile names to their buckets.")
        section = raw.get(profile_name) or {}
        where = _Where(doc, profile_name)
        if not isinstance(section, dict) or not isinstance(section.get("buckets") or {}, dict):
            raise BucketsFileError(
                f"{where(profile_name)}: expected `{profile_name}: {{target: <bucket>, "
                "buckets: {<name>: {type: local | s3, ...}}}`."
            )
        for key in section:
            if key not in SECTION_KEYS:
                raise BucketsFileError(
                    f"{where(profile_name, key)}: unknown key `{key}`; a profile's keys are "
                    "`target` and `buckets`."
                )
        base = os.path.dirname(os.path.abspath(path))
        specs = {
            str(name): _spec(str(name), options, base, where)
            for name, options in (section.get("buckets") or {}).items()
        }
        default = section.get("target")
        buckets = cls(default=str(default) if default else None, specs=specs)
        if buckets.default:
            used_by = f"{where(profile_name, 'target')}, key `target`"
            buckets.require(buckets.default, used_by=used_by)
        return buckets


#: The keys of a profile's section in buckets.yml.
SECTION_KEYS = frozenset({"target", "buckets"})


@dataclass(frozen=True)
class _Where:
    """`<file>, line <n>` for a key path of the profile's section, for error messages."""

    doc: YamlFile
    profile: str

    def __call__(self, *keys: str) -> str:
        return f"{self.doc.path}, line {self.doc.line(*keys)}"


def _spec(name: str, options: Any, base: str, where: _Where) -> BucketSpec:
    at = where(where.profile, "buckets", name)
    kind = options.get("type") if isinstance(options, dict) else None
    if kind not in BUCKET_TYPES:
        raise BucketsFileError(
            f"{at}: bucket {name!r} needs `type:` one of {names_hint(BUCKET_TYPES)}."
        )
    unknown = sorted(set(options) - _KEYS[kind])
    if unknown:
        raise BucketsFileError(
            f"{at}: bucket {name!r} has unknown key(s) {names_hint(unknown)}; a {kind} bucket "
            f"takes {names_hint(_KEYS[kind])}."
        )
    if kind == "local":
        if not options.get("path"):
            raise BucketsFileError(f"{at}: local bucket {name!r} needs `path:` (a folder).")
        folder = os.path.expanduser(str(options["path"]))
        return BucketSpec(name, kind, path=os.path.normpath(os.path.join(base, folder)))
    if not options.get("bucket"):
        raise BucketsFileError(f"{at}: s3 bucket {name!r} needs `bucket:` (the bucket's name).")
    endpoint = options.get("endpoint_url")
    if endpoint and urlparse(str(endpoint)).scheme not in ("http", "https"):
        raise BucketsFileError(
            f"{where(where.profile, 'buckets', name, 'endpoint_url')}: bucket {name!r}: "
            "`endpoint_url` must start with http:// or https://."
        )
    return BucketSpec(
        name,
        kind,
        bucket=str(options["bucket"]),
        prefix=str(options.get("prefix") or ""),
        endpoint_url=str(endpoint) if endpoint else None,
        region=str(options["region"]) if options.get("region") else None,
        url_style=str(options["url_style"]) if options.get("url_style") else None,
        credential_envs={k: str(options.get(k) or v) for k, v in DEFAULT_CREDENTIAL_ENVS.items()},
    )
