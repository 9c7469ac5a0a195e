"""`dvt debug`: dbt's checks for the default target, then every other target, compute and
bucket."""

from __future__ import annotations

import os
import time

from dbt.adapters.factory import FACTORY
from dbt.config.profile import Profile, read_profile
from dbt.config.renderer import ProfileRenderer
from dbt.events.types import DebugCmdOut, DebugCmdResult
from dbt.flags import get_flags
from dbt.mp_context import get_mp_context
from dbt.task.debug import DebugRunStatus, DebugTask
from dbt_common.events.functions import fire_event
from dbt_common.ui import green, red

from dvt.config.buckets import Buckets, BucketSpec
from dvt.config.computes import Computes, ComputeSpec
from dvt.config.spec import TargetSpec
from dvt.config.targets import ProfileTargets
from dvt.dbt_seams.isolation import isolated_adapter_class, release


class DvtDebugTask(DebugTask):
    """dbt's debug, plus one line per target, compute and bucket with a clear verdict."""

    def run(self) -> bool:
        dbt_ok = super().run()
        if self.args.config_dir or self.profile is None:
            return dbt_ok
        flags = get_flags()
        targets = ProfileTargets.load(
            self.profile.profile_name, self.profile.target_name, self.cli_vars
        )
        # A compute whose entry is wrong is one broken line below, not the end of the checks.
        computes = Computes.load(str(self.profiles_dir), self.profile.profile_name, strict=False)
        only_compute = getattr(flags, "COMPUTE", None)
        failures = []
        if only_compute is None:
            fire_event(DebugCmdOut(msg="Targets:"))
            for name in targets.names:
                if flags.TARGET is not None and name != flags.TARGET:
                    continue
                failures += self._report(
                    f"{name} ({targets[name].type})", self._check_target(targets, name)
                )
        fire_event(DebugCmdOut(msg="Computes:"))
        for name, spec in sorted(computes.specs.items()):
            if only_compute is not None and name != only_compute:
                continue
            failures += self._report(f"{name} ({spec.type})", _check_compute(spec, computes))
        buckets = Buckets.load(str(self.profiles_dir), self.profile.profile_name)
        only_bucket = getattr(flags, "BUCKET", None)
        if only_bucket is not None:
            buckets.require(only_bucket, used_by="The --bucket option")
        if buckets.specs:
            fire_event(DebugCmdOut(msg="Buckets:"))
        for name, bucket in sorted(buckets.specs.items()):
            if only_bucket is not None and name != only_bucket:
                continue
            verdict = _check_bucket(bucket, buckets)
            failures += self._report(f"{name} ({bucket.type})", verdict)
        if failures:
            failed = f"{len(failures)} check(s) failed: {', '.join(failures)}"
            fire_event(DebugCmdResult(msg=red(f"DVT: {failed}")))
            return DebugRunStatus.FAIL.value
        return dbt_ok

    @staticmethod
    def _report(label: str, verdict: tuple[bool, str]) -> list[str]:
        ok, detail = verdict
        status = green("OK") if ok else red("ERROR")
        fire_event(DebugCmdOut(msg=f"  {label} [{status}] {detail}"))
        return [] if ok else [label]

    def _check_target(self, targets: ProfileTargets, name: str) -> tuple[bool, str]:
        spec = targets[name]
        try:
            if spec.source_only:
                return _check_source_only(spec)
            if not spec.has_dbt_adapter:
                return (
                    False,
                    f"no dbt adapter for {spec.type!r}: pip install dbt-{spec.type} (or dvt sync)",
                )
            return self._check_adapter(targets, spec)
        except Exception as exc:
            message = " ".join(str(exc).split())[:300]
            return False, targets.redact(f"{type(exc).__name__}: {message}")

    def _check_adapter(self, targets: ProfileTargets, spec: TargetSpec) -> tuple[bool, str]:
        raw = read_profile(str(self.profiles_dir))[targets.profile_name]
        profile = Profile.from_raw_profile_info(
            raw, targets.profile_name, ProfileRenderer(self.cli_vars), target_override=spec.name
        )
        FACTORY.load_plugin(spec.type)
        adapter = isolated_adapter_class(FACTORY.plugins[spec.type].adapter, spec.name)(
            profile, get_mp_context()
        )
        started = time.perf_counter()
        try:
            with adapter.connection_named("dvt_debug"):
                adapter.debug_query()
        finally:
            adapter.cleanup_connections()
            release(adapter)
        return True, f"connection ok in {(time.perf_counter() - started) * 1000:.0f} ms"


def _check_source_only(spec: TargetSpec) -> tuple[bool, str]:
    """Read a source-only connection through the engine that federation uses."""

    from dvt import connectors
    from dvt.connectors.standalone import attached_source

    started = time.perf_counter()
    with attached_source(spec) as connection:
        connection.execute(connectors.for_target(spec).debug_sql).fetchone()
    elapsed = (time.perf_counter() - started) * 1000
    return True, f"source-only, read through DuckDB's {spec.type} scanner in {elapsed:.0f} ms"


def _check_compute(spec: ComputeSpec, computes: Computes) -> tuple[bool, str]:
    import importlib.util

    default = " (default)" if spec.name == computes.default else ""
    if spec.problem is not None:
        return False, spec.problem
    if spec.type == "duckdb":
        import duckdb

        from dvt import connectors
        from dvt.embedded import extension_package, extension_path
        from dvt.exceptions import EngineUnavailableError
        from dvt.requirements import installed

        extensions = {connectors.for_type(t).extension for t in connectors.types()}
        found, problems = [], []
        for name in sorted(e for e in extensions | {"httpfs"} if e):
            try:
                extension_path(name)
                found.append(name)
            except EngineUnavailableError as exc:  # a missing one is a problem only when used
                if installed(extension_package(name)) is not None:
                    problems.append(exc.msg)
        if problems:
            return False, " ".join(problems)
        return (
            True,
            f"duckdb {duckdb.__version__}, extensions: {', '.join(found) or 'none'}{default}",
        )
    # The built-in `spark` compute is only a problem when something asks for it.
    used = spec.name == computes.default or spec.name != "spark"
    if importlib.util.find_spec("pyspark") is None:
        return (not used), "[DVT105] pyspark is not installed: pip install pyspark (or dvt sync)"
    from dvt.engines.spark import connect_problem, java_needed, java_problem
    from dvt.requirements import installed

    remote = spec.options.get("remote")
    if remote:
        problem, runs_on = connect_problem(spec.name, remote), "Spark Connect client present"
    else:
        problem, runs_on = java_problem(spec.name), f"Java {java_needed()}+ present"
    if problem is not None:
        return (not used), f"[DVT105] {problem}"
    return True, f"pyspark {installed('pyspark')}, {runs_on}{default}"


def _check_bucket(bucket: BucketSpec, buckets: Buckets) -> tuple[bool, str]:
    """Write, read back and remove a probe file, the way federation stages (through DuckDB)."""
    import uuid

    from dvt.embedded import connect
    from dvt.quoting import quote_literal
    from dvt.staging import duckdb_setup, remove_prefix

    default = " (default)" if bucket.name == buckets.default else ""
    probe = f"{bucket.root}/.dvt_debug_{uuid.uuid4().hex}"
    connection = connect()
    started = time.perf_counter()
    try:
        if bucket.type == "local":
            os.makedirs(probe, exist_ok=True)
        for statement in duckdb_setup(bucket):
            connection.execute(statement)
        if bucket.type == "s3":
            connection.execute("SET http_retries = 1")
        target = quote_literal(f"{probe}/probe.parquet")
        connection.execute(f"COPY (SELECT 42 AS probe) TO {target} (FORMAT parquet)")
        (value,) = connection.execute(f"SELECT probe FROM read_parquet({target})").fetchone()
        remove_prefix(bucket, probe)
        if value != 42:
            return False, f"{bucket.root}: read back {value!r} instead of what was written"
    except Exception as exc:
        message = " ".join(str(exc).split())[:300]
        return False, buckets.redact(
            f"{bucket.root} is not writable: {type(exc).__name__}: {message}"
        )
    finally:
        connection.close()
    elapsed = (time.perf_counter() - started) * 1000
    return True, f"{bucket.root} writable and readable in {elapsed:.0f} ms{default}"
