"""`dvt ls`: dbt's list, whose JSON output also carries each node's target and path under DVT's
own keys (`dvt_target`, `dvt_path`...); dbt's keys keep dbt's meaning (`path` is the file)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dbt.task.list import ListTask

from dvt import invocation

#: The prefix of DVT's keys in `ls --output json`.
PREFIX = "dvt_"


def resolution_fields(node: Any, config: Any, manifest: Any) -> dict[str, object]:
    """DVT's fields for one listed node: target and path (sources: their connection)."""
    dvt = invocation.current(config, manifest)
    fields: dict[str, object] = {}
    if node.unique_id in manifest.sources:
        fields = {"target": dvt.resolver.connection_of(node)} if dvt.resolver else {}
    elif node.unique_id in manifest.nodes:
        fields = dvt.resolve(node).to_dict()
    return {f"{PREFIX}{key}": value for key, value in fields.items()}


class _Annotated:
    """A node whose `to_dict` includes DVT's fields; everything else is the node's."""

    def __init__(self, node: Any, fields: dict[str, object]) -> None:
        self._node = node
        self._fields = fields

    def __getattr__(self, name: str) -> Any:
        return getattr(self._node, name)

    def to_dict(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return {**self._node.to_dict(*args, **kwargs), **self._fields}


class DvtListTask(ListTask):
    ALLOWED_KEYS = ListTask.ALLOWED_KEYS | frozenset(
        f"{PREFIX}{key}" for key in ("target", "path", "input_targets", "compute", "bucket")
    )

    def generate_json(self) -> Iterator[str]:
        self._annotate = True
        try:
            yield from super().generate_json()
        finally:
            self._annotate = False

    def _iterate_selected_nodes(self) -> Iterator[Any]:
        for node in super()._iterate_selected_nodes():
            if getattr(self, "_annotate", False):
                yield _Annotated(node, resolution_fields(node, self.config, self.manifest))
            else:
                yield node
