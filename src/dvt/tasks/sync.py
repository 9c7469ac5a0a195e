"""`dvt sync`: install what the profile and computes.yml need (Python packages), and say what
must come from elsewhere (Debian packages, Java). `--dry-run` only lists."""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from dbt_common.events.functions import fire_event
from dbt_common.events.types import PrintEvent

from dvt import connectors
from dvt.config.buckets import Buckets
from dvt.config.computes import Computes
from dvt.config.targets import ProfileTargets
from dvt.embedded import extension_package

JDBC_JARS = {"postgres": ("/usr/share/java/postgresql.jar", "libpostgresql-jdbc-java")}
#: What an S3 bucket needs: DuckDB's httpfs extension, and boto3 to list and remove files.
S3_PACKAGES = ("duckdb-extension-httpfs", "boto3")


@dataclass(frozen=True)
class Requirement:
    kind: str  # "python", "debian" or "java"
    name: str
    reason: str

    @property
    def installed(self) -> str | None:
        """The installed version (or "present"), or None when missing."""
        if self.kind == "python":
            try:
                return importlib.metadata.version(self.name)
            except importlib.metadata.PackageNotFoundError:
                return None
        if self.kind == "debian":
            jar = next((path for path, package in JDBC_JARS.values() if package == self.name), "")
            return "present" if Path(jar).exists() else None
        return "present" if shutil.which("java") else None


def requirements(
    targets: ProfileTargets, computes: Computes, buckets: Buckets
) -> list[Requirement]:
    """Everything this profile's targets, computes and buckets need, each with the reason."""
    needed: dict[tuple[str, str], list[str]] = {}

    def need(kind: str, name: str, reason: str) -> None:
        needed.setdefault((kind, name), []).append(reason)

    for spec in targets.specs.values():
        if not spec.source_only:
            need("python", f"dbt-{spec.type}", f"target {spec.name}")
        extension = connectors.for_target(spec).extension if connectors.exists(spec.type) else None
        if extension:
            need("python", extension_package(extension), f"federation reads target {spec.name}")
    # The built-in `spark` compute needs nothing until something uses it.
    used = {name for name in computes.specs if name != "spark" or computes.default == "spark"}
    for name in sorted(used):
        if computes.specs[name].type == "duckdb":
            need("python", "duckdb", f"compute {name}")
        else:
            need("python", "pyspark", f"compute {name}")
            need("java", "java 17", f"compute {name}")
            for target in targets.specs.values():
                if target.type in JDBC_JARS:
                    need(
                        "debian",
                        JDBC_JARS[target.type][1],
                        f"compute {name} reads target {target.name}",
                    )
    for bucket in buckets.specs.values():
        if bucket.type == "s3":
            for package in S3_PACKAGES:
                need("python", package, f"bucket {bucket.name}")
    return [Requirement(kind, name, ", ".join(reasons)) for (kind, name), reasons in needed.items()]


def sync(targets: ProfileTargets, computes: Computes, buckets: Buckets, dry_run: bool) -> bool:
    """Report every requirement; install missing Python packages unless `dry_run`."""
    found = requirements(targets, computes, buckets)
    width = max(len(r.name) for r in found)
    for requirement in found:
        state = requirement.installed or "missing"
        fire_event(
            PrintEvent(
                msg=f"  {requirement.name.ljust(width)}  {state:<10}  ({requirement.reason})"
            )
        )
    missing_python = [r.name for r in found if r.kind == "python" and not r.installed]
    missing_other = [r for r in found if r.kind != "python" and not r.installed]
    for requirement in missing_other:
        how = (
            "apt-get install " + requirement.name
            if requirement.kind == "debian"
            else "install Java 17"
        )
        fire_event(PrintEvent(msg=f"Cannot install {requirement.name} from here: {how}"))
    if not missing_python:
        fire_event(PrintEvent(msg="Python packages: nothing to install."))
        return not missing_other
    if dry_run:
        fire_event(PrintEvent(msg=f"Would install: {' '.join(missing_python)}"))
        return not missing_other
    fire_event(PrintEvent(msg=f"Installing: {' '.join(missing_python)}"))
    done = subprocess.run([sys.executable, "-m", "pip", "install", *missing_python], check=False)
    if done.returncode != 0:
        fire_event(PrintEvent(msg="pip could not install them all; see its output above."))
    return done.returncode == 0 and not missing_other
