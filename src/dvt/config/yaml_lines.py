"""DVT's own YAML files (computes.yml, buckets.yml) loaded with the line of every key, so an
error can name the file, the key and the line the user has to fix.

    doc = load_yaml_file(path, ComputesFileError)
    raise ComputesFileError(f"{doc.where('my_profile', 'computes', 'big')}: needs `type:`")
    # -> "/home/me/.dbt/computes.yml, line 4, key my_profile.computes.big: needs `type:`"
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml  # type: ignore[import-untyped]

from dvt.exceptions import DvtError

KeyPath = tuple[Any, ...]


@dataclass(frozen=True)
class YamlFile:
    """A loaded YAML file: its data, and the 1-based line where each key path starts."""

    path: str
    data: Any
    lines: Mapping[KeyPath, int]

    def line(self, *keys: Any) -> int:
        """The line of the deepest known key along `keys` (line 1 for an empty file)."""
        for end in range(len(keys), 0, -1):
            if keys[:end] in self.lines:
                return self.lines[keys[:end]]
        return self.lines.get((), 1)

    def where(self, *keys: Any) -> str:
        """`<path>, line <n>, key a.b.c`: the prefix of every error about `keys`."""
        named = f", key {'.'.join(str(k) for k in keys)}" if keys else ""
        return f"{self.path}, line {self.line(*keys)}{named}"


def load_yaml_file(path: str, error: type[DvtError]) -> YamlFile:
    """Read `path` (safe YAML); invalid YAML raises `error` naming the file and the line."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f", line {mark.line + 1}" if mark is not None else ""
        raise error(f"{path}{line}: not valid YAML: {exc.problem or exc}.") from None
    except yaml.YAMLError as exc:
        raise error(f"{path}: not valid YAML: {exc}.") from None
    finally:
        loader.dispose()
    lines: dict[KeyPath, int] = {}
    if node is not None:
        _record(node, (), lines)
    return YamlFile(path=path, data=data, lines=lines)


def _record(node: yaml.Node, keys: KeyPath, lines: dict[KeyPath, int]) -> None:
    lines.setdefault(keys, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            lines[(*keys, key)] = key_node.start_mark.line + 1
            _record(value_node, (*keys, key), lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record(item, (*keys, index), lines)
