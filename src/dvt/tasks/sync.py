"""`dvt sync`: install the versions DVT pins of what the profile, computes.yml and buckets.yml
need (Python packages), and say what must come from elsewhere (Debian packages, Java).
`--dry-run` only lists."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from dbt_common.events.functions import fire_event
from dbt_common.events.types import PrintEvent
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from dvt import connectors
from dvt.config.buckets import Buckets
from dvt.config.computes import Computes, ComputeSpec
from dvt.config.targets import ProfileTargets
from dvt.embedded import extension_package, extension_path
from dvt.engines import spark
from dvt.exceptions import EngineUnavailableError
from dvt.requirements import DISTRIBUTION, declared, installed, pinned, satisfied

JDBC_JARS = {"postgres": ("/usr/share/java/postgresql.jar", "libpostgresql-jdbc-java")}
#: DVT's extra for an S3 bucket (boto3 lists and removes files); DuckDB reads with httpfs.
S3_EXTRA, S3_EXTENSION = "s3", "httpfs"


@dataclass(frozen=True)
class Need:
    """One requirement: a pip spec (`python`), a Debian package, or Java; why it is needed, what
    the machine has, and for what sync cannot fix by installing the pin, what to do."""

    kind: str  # "python", "debian" or "java"
    spec: str
    reason: str
    state: str
    ok: bool
    message: str | None = None


def python_need(requirement: Requirement, reason: str, extension: str | None = None) -> Need:
    """A Python package against DVT's pin; an extension package's binary must also be the one
    built for the installed duckdb (DVT105 with the fix otherwise)."""
    version = installed(requirement.name)
    spec = str(requirement)
    if version is None:
        return Need("python", spec, reason, "missing", ok=False)
    state, ok, message = version, satisfied(requirement), None
    if not ok:
        state = f"{version} (not in range)"
    if extension is not None:
        try:
            extension_path(extension)
        except EngineUnavailableError as exc:
            state, ok, message = f"{version} (not for this duckdb)", False, exc.msg
    return Need("python", spec, reason, state, ok, message)


def java_need(compute: str, reason: str) -> Need:
    spec = f"java {spark.java_needed()} or later"
    java = spark.find_java()
    state = f"{java.version} ({java.path})" if isinstance(java, spark.Java) else "missing"
    problem = spark.java_problem(compute)
    if problem is None:
        return Need("java", spec, reason, state, ok=True)
    return Need("java", spec, reason, state, ok=False, message=f"[DVT105] {problem}")


def debian_need(jar: str, package: str, reason: str) -> Need:
    if Path(jar).exists():
        return Need("debian", package, reason, "present", ok=True)
    message = f"Cannot install {package} from here (no {jar}): apt-get install {package}"
    return Need("debian", package, reason, "missing", ok=False, message=message)


def requirements(targets: ProfileTargets, computes: Computes, buckets: Buckets) -> list[Need]:
    """Everything this profile's targets, computes and buckets need, each with its reasons."""
    reasons: dict[tuple[str, str], list[str]] = {}
    python: dict[str, tuple[Requirement, str | None]] = {}

    def need_python(requirement: Requirement, reason: str, extension: str | None = None) -> None:
        python.setdefault(str(requirement), (requirement, extension))
        reasons.setdefault(("python", str(requirement)), []).append(reason)

    others: dict[tuple[str, str], tuple[str, ...]] = {}

    def need_other(kind: str, spec: str, reason: str, *args: str) -> None:
        others.setdefault((kind, spec), args)
        reasons.setdefault((kind, spec), []).append(reason)

    for spec in targets.specs.values():
        if not spec.source_only:
            need_python(pinned(f"dbt-{spec.type}"), f"target {spec.name}")
        extension = connectors.for_target(spec).extension if connectors.exists(spec.type) else None
        if extension:
            reason = f"federation reads target {spec.name}"
            need_python(pinned("duckdb"), reason)
            need_python(pinned(extension_package(extension)), reason, extension)
    # The built-in `spark` compute needs nothing until something uses it.
    used = {name for name in computes.specs if name != "spark" or computes.default == "spark"}
    for name in sorted(used):
        compute = computes.specs[name]
        reason = f"compute {name}"
        if compute.type == "duckdb":
            need_python(pinned("duckdb"), reason)
        elif _remote(compute):
            for requirement in spark.connect_client():
                need_python(requirement, f"Spark Connect client of compute {name}")
        else:
            need_python(pinned("pyspark", "spark"), reason)
            need_other("java", "java", reason, name)
            for target in targets.specs.values():
                if target.type in JDBC_JARS:
                    jar, package = JDBC_JARS[target.type]
                    need_other("debian", package, f"{reason} reads target {target.name}", jar)
    for bucket in buckets.specs.values():
        if bucket.type == "s3":
            reason = f"bucket {bucket.name}"
            need_python(pinned(extension_package(S3_EXTENSION)), reason, S3_EXTENSION)
            for requirement in declared(DISTRIBUTION, S3_EXTRA):
                need_python(requirement, reason)
    found = [
        python_need(requirement, ", ".join(reasons[("python", key)]), extension)
        for key, (requirement, extension) in python.items()
    ]
    for (kind, what), args in others.items():
        reason = ", ".join(reasons[(kind, what)])
        found.append(
            java_need(args[0], reason) if kind == "java" else debian_need(args[0], what, reason)
        )
    return found


def _remote(compute: ComputeSpec) -> bool:
    return bool(compute.options.get("remote"))


def install_specs(missing: list[Need]) -> list[str]:
    """pip's arguments: the missing specs; dbt-core held at its version when a dbt adapter is
    among them, so installing an adapter never moves dbt-core out of DVT's range."""
    specs = [need.spec for need in missing]
    adapters = [s for s in specs if canonicalize_name(Requirement(s).name).startswith("dbt-")]
    dbt_core = installed("dbt-core")
    if adapters and dbt_core is not None:
        specs.append(f"dbt-core=={dbt_core}")
    return specs


def sync(targets: ProfileTargets, computes: Computes, buckets: Buckets, dry_run: bool) -> bool:
    """Report every requirement; install missing Python packages unless `dry_run`."""
    found = requirements(targets, computes, buckets)
    width = max((len(need.spec) for need in found), default=0)
    state_width = max((len(need.state) for need in found), default=0)
    for need in found:
        line = f"  {need.spec.ljust(width)}  {need.state.ljust(state_width)}  ({need.reason})"
        fire_event(PrintEvent(msg=line))
    for need in found:
        if need.message is not None:
            fire_event(PrintEvent(msg=need.message))
    missing_python = [need for need in found if need.kind == "python" and not need.ok]
    missing_other = [need for need in found if need.kind != "python" and not need.ok]
    if not missing_python:
        rest = "" if not missing_other else ", but see above"
        fire_event(PrintEvent(msg=f"Python packages: nothing to install{rest}."))
        return not missing_other
    specs = install_specs(missing_python)
    listed = " ".join(f"'{spec}'" for spec in specs)
    if dry_run:
        fire_event(PrintEvent(msg=f"Would install: {listed}"))
        return not missing_other
    fire_event(PrintEvent(msg=f"Installing: {listed}"))
    done = subprocess.run([sys.executable, "-m", "pip", "install", *specs], check=False)
    if done.returncode != 0:
        fire_event(PrintEvent(msg="pip could not install them all; see its output above."))
    return done.returncode == 0 and not missing_other
