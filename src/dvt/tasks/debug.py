"""`dvt debug`: dbt's checks for the default target, then every other target and compute."""

from __future__ import annotations

import time
from typing import Any

from dbt.adapters.factory import FACTORY
from dbt.config.profile import Profile, read_profile
from dbt.config.renderer import ProfileRenderer
from dbt.events.types import DebugCmdOut, DebugCmdResult
from dbt.flags import get_flags
from dbt.mp_context import get_mp_context
from dbt.task.debug import DebugRunStatus, DebugTask
from dbt_common.events.functions import fire_event
from dbt_common.ui import green, red

from dvt.config.computes import Computes, ComputeSpec
from dvt.config.targets import ProfileTargets, TargetSpec
from dvt.dbt_seams.isolation import isolated_adapter_class, release


class DvtDebugTask(DebugTask):
    """dbt's debug, plus one line per target and per compute with a clear verdict."""

    def run(self) -> bool:
        dbt_ok = super().run()
        if self.args.config_dir or self.profile is None:
            return dbt_ok
        flags = get_flags()
        targets = ProfileTargets.load(self.profile.profile_name, self.profile.target_name, {})
        computes = Computes.load(str(self.profiles_dir), self.profile.profile_name)
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
        if failures:
            failed = f"{len(failures)} target or compute check(s) failed: {', '.join(failures)}"
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
            raw, targets.profile_name, ProfileRenderer({}), target_override=spec.name
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

    from dvt.engines.duckdb import connect, extension_path

    connection = connect()
    try:
        started = time.perf_counter()
        if spec.type == "sqlite":
            path = str(spec.options.get("path") or "")
            connection.execute(f"LOAD '{extension_path('sqlite_scanner')}'")
            connection.execute(
                f"ATTACH '{path.replace(chr(39), chr(39) * 2)}' AS src (TYPE sqlite, READ_ONLY)"
            )
            connection.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'src'"
            ).fetchone()
        else:
            from dvt.connectors.mysql import MySQLConnector

            fields = MySQLConnector.secret_fields(spec.options)
            connection.execute(f"LOAD '{extension_path('mysql_scanner')}'")
            connection.execute(f"CREATE SECRET dvt_debug (TYPE mysql, {fields})")
            connection.execute("ATTACH '' AS src (TYPE mysql, SECRET dvt_debug, READ_ONLY)")
            connection.execute("SELECT * FROM mysql_query('src', 'SELECT 1')").fetchone()
        elapsed = (time.perf_counter() - started) * 1000
        return True, f"source-only, read through DuckDB's {spec.type} scanner in {elapsed:.0f} ms"
    finally:
        connection.close()


def _check_compute(spec: ComputeSpec, computes: Computes) -> tuple[bool, str]:
    import importlib.util

    default = " (default)" if spec.name == computes.default else ""
    if spec.type == "duckdb":
        import duckdb

        from dvt.engines.duckdb import EXTENSION_PACKAGES, extension_path

        found = [name for name in EXTENSION_PACKAGES if _exists(extension_path, name)]
        return (
            True,
            f"duckdb {duckdb.__version__}, extensions: {', '.join(found) or 'none'}{default}",
        )
    if importlib.util.find_spec("pyspark") is None:
        # The built-in `spark` compute is only a problem when something asks for it.
        used = spec.name == computes.default or spec.name != "spark"
        return (not used), "[DVT105] pyspark is not installed: pip install pyspark (or dvt sync)"
    return True, f"pyspark present{default}"


def _exists(find: Any, name: str) -> bool:
    try:
        find(name)
    except Exception:
        return False
    return True
