"""computes.yml: named compute engines for federation (DESIGN.md section 4).

Two computes exist without any file: `duckdb` (embedded, the default) and `spark` (local mode).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dvt.config.yaml_lines import YamlFile, load_yaml_file
from dvt.exceptions import DvtError, UnknownComputeError, names_hint

COMPUTES_FILE = "computes.yml"
#: The keys each compute type accepts (DuckDB's are passed to it as settings).
ENGINE_KEYS: Mapping[str, frozenset[str]] = {
    "duckdb": frozenset(
        {"type", "memory_limit", "threads", "temp_directory", "max_temp_directory_size"}
    ),
    "spark": frozenset({"type", "master", "remote", "config", "jars", "jdbc"}),
}
#: The keys of one profile's section.
SECTION_KEYS = frozenset({"target", "computes"})
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
        """The built-ins plus the computes of `profile_name` in computes.yml; a malformed file
        raises DVT101 naming the file, the line and the key."""
        specs = {n: ComputeSpec(n, str(o["type"]), o) for n, o in BUILTIN_COMPUTES.items()}
        path = os.path.join(profiles_dir, COMPUTES_FILE)
        if not os.path.isfile(path):
            return cls(default="duckdb", specs=specs)
        doc = load_yaml_file(path, ComputesFileError)
        raw = doc.data if doc.data is not None else {}
        if not isinstance(raw, dict):
            raise ComputesFileError(f"{doc.where()}: must map profile names to their computes.")
        section = raw.get(profile_name)
        if section is None:
            return cls(default="duckdb", specs=specs)
        _require_mapping(doc, section, profile_name)
        for key in section:
            if key not in SECTION_KEYS:
                raise ComputesFileError(
                    f"{doc.where(profile_name, key)}: unknown key; a profile's keys are "
                    f"{names_hint(SECTION_KEYS)}."
                )
        computes = section.get("computes") or {}
        _require_mapping(doc, computes, profile_name, "computes")
        for name, options in computes.items():
            specs[name] = _spec(doc, profile_name, name, options)
        default = section.get("target", "duckdb")
        loaded = cls(default=default, specs=specs)
        loaded.require(default, used_by=doc.where(profile_name, "target"))
        return loaded


def _require_mapping(doc: YamlFile, value: Any, *keys: str) -> None:
    if not isinstance(value, dict):
        raise ComputesFileError(f"{doc.where(*keys)}: must be a mapping.")


def _spec(doc: YamlFile, profile_name: str, name: str, options: Any) -> ComputeSpec:
    """One compute of the file, its type and keys checked."""
    keys = (profile_name, "computes", name)
    _require_mapping(doc, options, *keys)
    engine = options.get("type")
    if engine not in ENGINE_KEYS:
        where = doc.where(*keys, "type") if "type" in options else doc.where(*keys)
        raise ComputesFileError(
            f"{where}: needs `type:` one of {names_hint(ENGINE_KEYS)}"
            + (f", not {engine!r}." if engine is not None else ".")
        )
    for key in options:
        if key not in ENGINE_KEYS[engine]:
            raise ComputesFileError(
                f"{doc.where(*keys, key)}: unknown key for a {engine} compute; its keys are "
                f"{names_hint(ENGINE_KEYS[engine])}."
            )
    return ComputeSpec(name, engine, options)
