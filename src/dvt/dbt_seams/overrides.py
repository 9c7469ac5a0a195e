"""The dbt methods DVT overrides still take what DVT's overrides accept.

dbt calls DVT's task and runner methods as its own, with the arguments of its version: dbt 1.12
passes `call_runner` a `parent_context` and `_execute_model` a `manifest` that 1.11 did not. An
override must accept every parameter of dbt's method and pass it on: one dbt passes by position
at its position or through `*args`, a keyword-only one by its name or through `**kwargs`. Names of
positional parameters are not compared (dbt passes them positionally, and names `execute`'s node
`compiled_node`, `model` or `test` in different runners), unless DVT's has the name at another
position. `override_mismatches()` walks DVT's task, runner and seam classes, finds each method
that overrides one of a dbt class later in the MRO, and compares the two signatures;
`check_seams()` (install.py) fails naming each override that does not fit.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

#: DVT's packages whose classes subclass dbt's.
PACKAGES = ("dvt.tasks", "dvt.runners", "dvt.dbt_seams")

#: Mixins DVT composes with runner classes only at run time (tasks/base.py's `_with_where_line`,
#: runners/microbatch.py's `federated_batch_runner`), with the classes they are mixed into.
MIXED_INTO: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "dvt.tasks.base:WhereLineMixin",
        (
            "dbt.task.run:ModelRunner",
            "dbt.task.seed:SeedRunner",
            "dbt.task.snapshot:SnapshotRunner",
        ),
    ),
    ("dvt.tasks.base:DataTestWhereLineMixin", ("dbt.task.test:TestRunner",)),
    (
        "dvt.runners.federation:FederatedRunnerMixin",
        ("dvt.runners.microbatch:DvtMicrobatchBatchRunner",),
    ),
)

#: Modules whose classes' methods are checked where they override dbt's.
_OURS = tuple(f"{package}." for package in PACKAGES)
_P = inspect.Parameter
_POSITIONAL = (_P.POSITIONAL_ONLY, _P.POSITIONAL_OR_KEYWORD)


@dataclass(frozen=True)
class OverrideMismatch:
    """A DVT override that refuses some call dbt's method accepts."""

    override: str  # dvt.runners.seed.BulkSeedRunner._execute_model
    original: str  # dbt.task.run.ModelRunner._execute_model
    missing: tuple[str, ...]  # what of dbt's it does not accept
    signatures: tuple[str, str]  # (DVT's, dbt's)

    def __str__(self) -> str:
        ours, theirs = self.signatures
        return (
            f"{self.override}{ours} does not accept {', '.join(self.missing)} of "
            f"{self.original}{theirs}: take it by name or through *args/**kwargs and pass it on"
        )


def _load(path: str) -> Any:
    module, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module), attribute)


def _from_dbt(cls: type) -> bool:
    return cls.__module__.partition(".")[0] in ("dbt", "dbt_common")


def dvt_classes() -> list[type]:
    """Every class defined in DVT's task, runner and seam modules, and each run-time mixin
    composed with the dbt classes it is mixed into."""
    classes: list[type] = []
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        for info in pkgutil.iter_modules(package.__path__, f"{package_name}."):
            module = importlib.import_module(info.name)
            classes += [
                value
                for value in vars(module).values()
                if isinstance(value, type) and value.__module__ == module.__name__
            ]
    for mixin, bases in MIXED_INTO:
        classes += [type(_load(mixin).__name__, (_load(mixin), _load(b)), {}) for b in bases]
    return classes


def _function(attribute: object) -> Callable[..., Any] | None:
    if isinstance(attribute, (staticmethod, classmethod)):
        attribute = attribute.__func__
    return attribute if inspect.isfunction(attribute) else None


def unaccepted(ours: inspect.Signature, theirs: inspect.Signature) -> tuple[str, ...]:
    """What of `theirs` a call to `ours` would refuse.

    A parameter dbt can pass positionally needs a positional parameter at its index (any name,
    unless `ours` has that name at another index) or `*args`; a keyword-only one needs its name
    or `**kwargs`; one dbt's method may leave out must be optional in `ours` too.
    """
    params = list(ours.parameters.values())
    var_args = any(p.kind is _P.VAR_POSITIONAL for p in params)
    var_kwargs = any(p.kind is _P.VAR_KEYWORD for p in params)
    named = {p.name: p for p in params if p.kind not in (_P.VAR_POSITIONAL, _P.VAR_KEYWORD)}
    positional = [p for p in params if p.kind in _POSITIONAL]
    missing = []
    for index, param in enumerate(theirs.parameters.values()):
        if param.kind is _P.VAR_POSITIONAL:
            accepted = var_args
        elif param.kind is _P.VAR_KEYWORD:
            accepted = var_kwargs
        else:
            if param.kind in _POSITIONAL:
                slot = positional[index] if index < len(positional) else None
                moved = param.name in named and slot is not named[param.name]
                mine = slot if slot is not None else named.get(param.name)
                accepted = (slot is not None or var_args) and not moved
            else:
                mine = named.get(param.name)
                accepted = (mine is not None and mine.kind is not _P.POSITIONAL_ONLY) or (
                    mine is None and var_kwargs
                )
            if param.default is not _P.empty and mine is not None:
                accepted = accepted and mine.default is not _P.empty
        if not accepted:
            missing.append(f"`{param}`")
    return tuple(missing)


def override_mismatches(classes: Iterable[type] | None = None) -> list[OverrideMismatch]:
    """Every method of `classes` (DVT's by default) that overrides a dbt method it does not
    accept every call of. The overriding side is each class given and each DVT class in its MRO;
    dbt's side is the nearest definition in a dbt class after it."""
    given = list(dvt_classes() if classes is None else classes)
    found: dict[tuple[str, str], OverrideMismatch | None] = {}
    for cls in given:
        mro = cls.__mro__
        for index, ours_cls in enumerate(mro):
            if ours_cls not in given and not ours_cls.__module__.startswith(_OURS):
                continue
            for name, attribute in vars(ours_cls).items():
                ours = _function(attribute)
                theirs_cls = next(
                    (c for c in mro[index + 1 :] if name in vars(c) and _from_dbt(c)), None
                )
                if ours is None or theirs_cls is None:
                    continue
                theirs = _function(vars(theirs_cls)[name])
                key = (
                    f"{ours_cls.__module__}.{ours_cls.__qualname__}.{name}",
                    f"{theirs_cls.__module__}.{theirs_cls.__qualname__}.{name}",
                )
                if theirs is None or key in found:
                    continue
                ours_sig, theirs_sig = inspect.signature(ours), inspect.signature(theirs)
                missing = unaccepted(ours_sig, theirs_sig)
                sigs = (str(ours_sig), str(theirs_sig))
                found[key] = OverrideMismatch(*key, missing, sigs) if missing else None
    return [mismatch for mismatch in found.values() if mismatch is not None]
