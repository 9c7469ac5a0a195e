"""computes.yml: named compute engines for federation (DESIGN.md section 4).

Two computes exist without any file: `duckdb` (embedded, the default) and `spark` (local mode).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
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
    #: Why the entry cannot be used: only `dvt debug` loads a broken compute (to report it).
    problem: str | None = field(default=None, compare=False)


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
    def load(cls, profiles_dir: str, profile_name: str, *, strict: bool = True) -> Computes:
        """The built-ins plus the computes of `profile_name` in computes.yml; a malformed file
        raises DVT101 naming the file, the line and the key. With `strict=False` (`dvt debug`),
        a compute whose own entry is wrong is kept with its `problem`, so that it is reported
        beside the others instead of stopping the command."""
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
            try:
                specs[name] = _spec(doc, profile_name, name, options)
            except ComputesFileError as exc:
                if strict:
                    raise
                engine = options.get("type") if isinstance(options, dict) else None
                specs[name] = ComputeSpec(name, str(engine or "no type"), {}, problem=exc.msg)
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
        check = VALUE_CHECKS.get((engine, key))
        if check is not None and not check.accepts(options[key]):
            raise ComputesFileError(
                f"{doc.where(*keys, key)}: compute {name!r} sets {key} to "
                f"{_shown(options[key])}; {key} takes {check.accepted}."
            )
    return ComputeSpec(name, engine, options)


@dataclass(frozen=True)
class ValueCheck:
    """What one key of a compute accepts, and how an error message says it."""

    accepts: Callable[[Any], bool]
    accepted: str


#: DuckDB's sizes (`memory_limit`, `max_temp_directory_size`): a number and a unit, as DuckDB
#: reads them (decimal or binary units, short or spelled out), or -1 for no limit.
_DUCKDB_SIZE = re.compile(
    r"\s*(?:(?P<none>-1)|(?P<number>(?:\d+\.?\d*|\.\d+)(?:e-?\d+)?)\s*"
    r"(?P<unit>b|bytes?|[kmgt]|[kmgt]i?b|(?:kilo|mega|giga|tera)bytes?))\s*",
    re.IGNORECASE,
)
#: Bytes per unit, by the unit's first letter and whether it is binary (`KiB`).
_UNIT_BYTES = {
    (u, binary): (1024 if binary else 1000) ** i
    for i, u in enumerate("bkmgt")
    for binary in (False, True)
}
#: DuckDB keeps sizes in 64 bits: larger ones are "out of range".
_MAX_BYTES = 2**64


def _duckdb_size(value: Any) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        return value == -1
    found = _DUCKDB_SIZE.fullmatch(value) if isinstance(value, str) else None
    if found is None:
        return False
    if found.group("none"):
        return True
    unit = found.group("unit").lower()
    factor = _UNIT_BYTES[(unit[0], unit.endswith("ib"))]
    return float(found.group("number")) * factor <= _MAX_BYTES


def _positive_int(value: Any) -> bool:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value < 2**63


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _scalars(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(v, (str, int, float, bool)) for v in value.values()
    )


def _texts(value: Any) -> bool:
    return isinstance(value, list) and all(_text(v) for v in value)


#: Keys of a Spark compute's `jdbc:` mapping (`engines/spark.py` reads them).
SPARK_JDBC_KEYS = frozenset({"fetchsize", "batchsize", "num_partitions"})


def _jdbc(value: Any) -> bool:
    return isinstance(value, dict) and all(
        k in SPARK_JDBC_KEYS and _positive_int(v) for k, v in value.items()
    )


def _or_empty(accepts: Callable[[Any], bool]) -> Callable[[Any], bool]:
    """`accepts`, or an empty value: the Spark engine reads an empty key as its default."""
    return lambda value: value is None or accepts(value)


_SIZE = ValueCheck(
    _duckdb_size,
    "a size with a unit, such as '4GB', '512MB' or '1.5GiB' (units B, KB, MB, GB, TB, KiB, MiB, "
    "GiB, TiB), or -1 for no limit",
)
#: The values each (compute type, key) accepts; computes.yml is checked when it is loaded, so
#: a bad value fails every command at once instead of every federated node with the engine's
#: own parser error.
VALUE_CHECKS: Mapping[tuple[str, str], ValueCheck] = {
    ("duckdb", "memory_limit"): _SIZE,
    ("duckdb", "max_temp_directory_size"): _SIZE,
    ("duckdb", "threads"): ValueCheck(_positive_int, "a whole number of threads, 1 or more"),
    ("duckdb", "temp_directory"): ValueCheck(_text, "a folder path"),
    ("spark", "master"): ValueCheck(
        _or_empty(_text), "a Spark master URL, such as 'local[*]' or 'spark://host:7077'"
    ),
    ("spark", "remote"): ValueCheck(
        _or_empty(lambda v: isinstance(v, str) and v.startswith("sc://")),
        "a Spark Connect URL, such as 'sc://host:15002'",
    ),
    ("spark", "config"): ValueCheck(
        _or_empty(_scalars),
        "a mapping of Spark settings to values, such as {spark.executor.memory: 8g}",
    ),
    ("spark", "jars"): ValueCheck(_or_empty(_texts), "a list of jar paths or URLs"),
    ("spark", "jdbc"): ValueCheck(
        _or_empty(_jdbc), f"a mapping of {names_hint(SPARK_JDBC_KEYS)} to whole numbers, 1 or more"
    ),
}


def _shown(value: Any) -> str:
    return "nothing" if value is None else repr(value)
