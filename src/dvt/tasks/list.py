"""`dvt ls`: dbt's list, whose JSON output also carries each node's target and path."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dbt.task.list import ListTask

from dvt import invocation


def resolution_fields(node: Any, config: Any, manifest: Any) -> dict[str, object]:
    """DVT's fields for one listed node: target and path (sources: their connection)."""
    dvt = invocation.current(config, manifest)
    if node.unique_id in manifest.sources:
        return {"target": dvt.resolver.connection_of(node)} if dvt.resolver else {}
    if node.unique_id in manifest.nodes:
        return dvt.resolve(node).to_dict()
    return {}


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
    ALLOWED_KEYS = ListTask.ALLOWED_KEYS | frozenset(("target", "path", "input_targets", "compute"))

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
