"""computes.yml: named compute engines for federation (DESIGN.md section 4).

Two computes exist without any file: `duckdb` (embedded, the default) and `spark` (local mode).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dbt.clients.yaml_helper import load_yaml_text
from dbt_common.exceptions import DbtValidationError

from dvt.exceptions import DvtError, UnknownComputeError, names_hint

COMPUTES_FILE = "computes.yml"
ENGINE_TYPES = frozenset({"duckdb", "spark"})
BUILTIN_COMPUTES: Mapping[str, Mapping[str, Any]] = {
    "duckdb": {"type": "duckdb"},
    "spark": {"type": "spark", "master": "local[*]"},
}


class ComputesFileError(DvtError):
    code = "DVT101"


@dataclass(frozen=True)
class ComputeSpec:
    name: str
    type: str
    options: Mapping[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Computes:
    """The computes of one profile: the built-ins plus those of computes.yml."""

    default: str
    specs: Mapping[str, ComputeSpec]

    def require(self, name: str, *, used_by: str) -> ComputeSpec:
        if name not in self.specs:
            raise UnknownComputeError(
                f"{used_by} names compute {name!r}, which is not defined. "
                f"Computes: {names_hint(self.specs)} (add others in {COMPUTES_FILE} beside "
                "profiles.yml)."
            )
        return self.specs[name]

    @classmethod
    def load(cls, profiles_dir: str, profile_name: str) -> Computes:
        specs = {n: ComputeSpec(n, str(o["type"]), o) for n, o in BUILTIN_COMPUTES.items()}
        path = os.path.join(profiles_dir, COMPUTES_FILE)
        if not os.path.isfile(path):
            return cls(default="duckdb", specs=specs)
        with open(path, encoding="utf-8") as handle:
            try:
                raw = load_yaml_text(handle.read(), path) or {}
            except DbtValidationError as exc:
                raise ComputesFileError(f"{path} is not valid YAML: {exc}") from exc
        section = raw.get(profile_name) or {}
        if not isinstance(section, dict):
            raise ComputesFileError(f"{path}: key {profile_name!r} must be a mapping.")
        for name, options in (section.get("computes") or {}).items():
            if not isinstance(options, dict) or options.get("type") not in ENGINE_TYPES:
                raise ComputesFileError(
                    f"{path}: compute {name!r} of profile {profile_name!r} needs `type:` one of "
                    f"{names_hint(ENGINE_TYPES)}."
                )
            specs[name] = ComputeSpec(name, options["type"], options)
        default = section.get("target", "duckdb")
        computes = cls(default=default, specs=specs)
        computes.require(default, used_by=f"{path} (profile {profile_name!r}, key `target`)")
        return computes
