"""The only patches of dbt internals, installed for the duration of one `dvt` invocation.

dbt's click commands import their task classes lazily (`from dbt.task.run import RunTask`)
and `parse_manifest` calls the module-level `ManifestLoader`; DVT swaps those names for its
subclasses, and the adapter factory's class for a per-target one. `check_seams()` fails loudly
when a dbt upgrade moves any of them, or changes the parameters of a dbt method DVT overrides
(overrides.py); tests/unit/test_seams.py calls it. Each invocation checks the swaps only: the
override walk imports every task and runner module, SQLGlot included.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from typing import Any

from dvt.dbt_seams.factory import per_target_factory
from dvt.dbt_seams.overrides import override_mismatches

#: (dbt module, attribute, DVT replacement as "module:attribute").
SEAMS: tuple[tuple[str, str, str], ...] = (
    (
        "dbt_common.utils.executor",
        "MultiThreadedExecutor",
        "dvt.dbt_seams.factory:ContextCopyingExecutor",
    ),
    ("dbt.parser.manifest", "ManifestLoader", "dvt.dbt_seams.manifest:DvtManifestLoader"),
    # read_project_flags builds these: under dvt, usage tracking defaults to off (flags.py).
    ("dbt.config.project", "ProjectFlags", "dvt.dbt_seams.flags:DvtProjectFlags"),
    # --warn-error-options and the project flags' warn_error_options accept DVT's codes too.
    ("dbt.cli.option_types", "ALL_EVENT_NAMES", "dvt.dbt_seams.flags:EVENT_NAMES"),
    ("dbt.cli.flags", "ALL_EVENT_NAMES", "dvt.dbt_seams.flags:EVENT_NAMES"),
    (
        "dbt.parser.read_files",
        "load_seed_source_file",
        "dvt.dbt_seams.manifest:load_seed_source_file",
    ),
    # Every runner compiles its node with this module's Compiler (`config(dialect=...)`).
    ("dbt.task.base", "Compiler", "dvt.dbt_seams.compiler:DvtCompiler"),
    ("dbt.task.run", "RunTask", "dvt.tasks.run:DvtRunTask"),
    # RunTask._submit_batch builds each batch's runner by this name.
    (
        "dbt.task.run",
        "MicrobatchBatchRunner",
        "dvt.runners.microbatch:DvtMicrobatchBatchRunner",
    ),
    ("dbt.task.build", "BuildTask", "dvt.tasks.build:DvtBuildTask"),
    ("dbt.task.seed", "SeedTask", "dvt.tasks.seed:DvtSeedTask"),
    ("dbt.task.test", "TestTask", "dvt.tasks.test:DvtTestTask"),
    ("dbt.task.snapshot", "SnapshotTask", "dvt.tasks.snapshot:DvtSnapshotTask"),
    ("dbt.task.compile", "CompileTask", "dvt.tasks.compile:DvtCompileTask"),
    ("dbt.task.show", "ShowTask", "dvt.tasks.show:DvtShowTask"),
    ("dbt.task.list", "ListTask", "dvt.tasks.list:DvtListTask"),
    ("dbt.task.debug", "DebugTask", "dvt.tasks.debug:DvtDebugTask"),
    ("dbt.task.freshness", "FreshnessTask", "dvt.tasks.freshness:DvtFreshnessTask"),
    ("dbt.task.docs.generate", "GenerateTask", "dvt.tasks.docs:DvtGenerateTask"),
    ("dbt.task.init", "InitTask", "dvt.tasks.init:DvtInitTask"),
    ("dbt.task.clone", "CloneTask", "dvt.tasks.clone:DvtCloneTask"),
    # retry compares the previous command's task with these names to restore microbatch state.
    ("dbt.task.retry", "RunTask", "dvt.tasks.run:DvtRunTask"),
    ("dbt.task.retry", "BuildTask", "dvt.tasks.build:DvtBuildTask"),
)

#: `dvt retry` reruns the previous command with DVT's task: dbt's retry keeps a name -> task map.
RETRY_TASKS = ("dbt.task.retry", "TASK_DICT")


def _load(path: str) -> object:
    module, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module), attribute)


def check_seams() -> None:
    """Raise if any attribute DVT replaces moved, or if a dbt method DVT overrides takes an
    argument DVT's override does not accept (naming each such method)."""
    check_swaps()
    mismatches = override_mismatches()
    if mismatches:
        listed = "\n".join(f"  - {mismatch}" for mismatch in mismatches)
        raise RuntimeError(f"dbt methods DVT overrides take what DVT's overrides refuse:\n{listed}")


def check_swaps() -> None:
    """Raise if any attribute DVT replaces no longer exists where DVT expects it."""
    for module_name, attribute, replacement in SEAMS:
        module = importlib.import_module(module_name)
        original = getattr(module, attribute, None)
        if original is None:
            raise RuntimeError(f"dbt seam moved: {module_name}.{attribute} is gone")
        ours = _load(replacement)
        if isinstance(original, set):
            if not isinstance(ours, set) or not all(name in ours for name in original):
                raise RuntimeError(f"{replacement} no longer holds every {module_name}.{attribute}")
        elif isinstance(original, type):
            if original is not ours and not issubclass(ours, original):  # type: ignore[arg-type]
                raise RuntimeError(f"{replacement} no longer subclasses {module_name}.{attribute}")
        elif original is not ours and getattr(ours, "__wrapped__", None) is not original:
            raise RuntimeError(f"{replacement} no longer wraps {module_name}.{attribute}")
    retry_map = getattr(importlib.import_module(RETRY_TASKS[0]), RETRY_TASKS[1], None)
    if not isinstance(retry_map, dict) or "run" not in retry_map:
        raise RuntimeError("dbt seam moved: dbt.task.retry.TASK_DICT is gone")


@contextlib.contextmanager
def _swapped(seams: tuple[tuple[str, str, str], ...]) -> Iterator[dict[Any, object]]:
    """Install `seams` and restore dbt's attributes afterwards; yields DVT's replacement of
    each dbt object, by the dbt object's id (dbt's sets are not hashable)."""
    saved: list[tuple[Any, str, object]] = []
    replacements: dict[Any, object] = {}
    for module_name, attribute, replacement in seams:
        module = importlib.import_module(module_name)
        original = getattr(module, attribute)
        replacements[id(original)] = _load(replacement)
        saved.append((module, attribute, original))
        setattr(module, attribute, replacements[id(original)])
    try:
        yield replacements
    finally:
        for module, attribute, original in reversed(saved):
            setattr(module, attribute, original)


@contextlib.contextmanager
def dvt_event_names() -> Iterator[None]:
    """Only the event-name seams: click parses the top-level options before `dvt_seams`."""
    with _swapped(tuple(s for s in SEAMS if s[1] == "ALL_EVENT_NAMES")):
        yield


@contextlib.contextmanager
def dvt_seams() -> Iterator[None]:
    """Swap DVT's subclasses into dbt for one invocation, and restore dbt's afterwards."""
    check_swaps()
    with _swapped(SEAMS) as replacements, _retry_tasks(replacements), per_target_factory():
        yield


@contextlib.contextmanager
def _retry_tasks(replacements: dict[Any, object]) -> Iterator[None]:
    """dbt's retry map of command names to tasks, with DVT's tasks."""
    retry_map: dict[str, object] = getattr(importlib.import_module(RETRY_TASKS[0]), RETRY_TASKS[1])
    saved_retry = dict(retry_map)
    retry_map.update({k: replacements.get(id(v), v) for k, v in retry_map.items()})
    try:
        yield
    finally:
        retry_map.clear()
        retry_map.update(saved_retry)


@contextlib.contextmanager
def dvt_cli_as_dbt_cli(dvt_cli: object) -> Iterator[None]:
    """Make `dbt.cli.main.cli` DVT's group: dbtRunner and dbt's retry look commands up there."""
    dbt_main = importlib.import_module("dbt.cli.main")
    original = dbt_main.cli
    setattr(dbt_main, "cli", dvt_cli)  # noqa: B010 - a module attribute swap, like SEAMS
    try:
        yield
    finally:
        setattr(dbt_main, "cli", original)  # noqa: B010
