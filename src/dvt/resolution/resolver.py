"""The resolver: node target, source connection, execution path and compute (DESIGN.md 5)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from dbt.node_types import NodeType

from dvt.config.buckets import Buckets
from dvt.config.computes import Computes
from dvt.config.targets import ProfileTargets
from dvt.exceptions import (
    ConflictingConnectionError,
    DvtError,
    InvalidPlacementError,
    UnknownBucketError,
    UnknownComputeError,
    UnknownTargetError,
    names_hint,
)
from dvt.resolution.models import PLACEMENTS, ExecutionPath, NodeResolution

if TYPE_CHECKING:
    from dbt.contracts.graph.manifest import Manifest

#: Node types that are written to a target and so carry a `target` config.
WRITTEN_TYPES = frozenset({NodeType.Model, NodeType.Seed, NodeType.Snapshot})


def _dvt_meta(node: Any) -> dict[str, Any]:
    meta = getattr(node, "meta", None) or {}
    dvt = meta.get("dvt") if isinstance(meta, dict) else None
    return dvt if isinstance(dvt, dict) else {}


def _where(node: Any) -> str:
    return f"{node.resource_type} {node.unique_id!r} ({node.original_file_path})"


#: Configs that hold one name: the error of each, and what its names are called.
_NAMED_CONFIGS: dict[str, tuple[type[DvtError], str]] = {
    "target": (UnknownTargetError, "Targets"),
    "connection": (UnknownTargetError, "Targets"),
    "compute": (UnknownComputeError, "Computes"),
    "bucket": (UnknownBucketError, "Buckets"),
}


def _one_name(value: Any, key: str, node: Any, names: Iterable[str]) -> str | None:
    """A `target`, `connection`, `compute` or `bucket` config as the one name it must be: a
    list (`target=['pg', 'duck']`) would otherwise reach the lookups as an unhashable key."""
    if value is None or isinstance(value, str):
        return value
    error, label = _NAMED_CONFIGS[key]
    raise error(
        f"{_where(node)} sets `{key}` to {value!r}, but `{key}` must be one name, not "
        f"a {type(value).__name__}. {label}: {names_hint(names)}."
    )


class Resolver:
    """Resolves nodes of one manifest; results are cached per unique_id."""

    def __init__(
        self,
        manifest: Manifest,
        targets: ProfileTargets,
        computes: Computes,
        buckets: Buckets,
        *,
        force_default_target: bool = False,
        compute_override: str | None = None,
        bucket_override: str | None = None,
        placement_override: str | None = None,
    ) -> None:
        self.manifest = manifest
        self.targets = targets
        self.computes = computes
        self.force_default_target = force_default_target
        self.compute_override = compute_override
        self.buckets = buckets
        self.bucket_override = bucket_override
        self.placement_override = placement_override
        self._cache: dict[str, NodeResolution] = {}

    # -- where things live -------------------------------------------------------------------

    def connection_of(self, source: Any) -> str:
        """The target a source lives on: config `connection`, else meta.dvt, else the default."""
        names = self.targets.specs
        from_config = _one_name(source.config.get("connection"), "connection", source, names)
        from_meta = _one_name(_dvt_meta(source).get("connection"), "connection", source, names)
        if from_config and from_meta and from_config != from_meta:
            raise ConflictingConnectionError(
                f"{_where(source)} sets connection {from_config!r} in config and {from_meta!r} "
                "in meta.dvt; keep one."
            )
        name = from_config or from_meta or self.targets.default
        self.targets.require(name, used_by=_where(source))
        return name

    def target_of(self, node: Any) -> str:
        """The target a model, seed or snapshot is written to."""
        if self.force_default_target:
            return self.targets.default
        names = self.targets.specs
        name = (
            _one_name(node.config.get("target"), "target", node, names)
            or _one_name(_dvt_meta(node).get("target"), "target", node, names)
            or self.targets.default
        )
        self.targets.require_writable(name, used_by=_where(node))
        return name

    def _locations(
        self, unique_id: str, seen: frozenset[str] = frozenset()
    ) -> Iterable[tuple[str, str]]:
        """(input, target) pairs for one dependency, looking through ephemeral models."""
        if unique_id in self.manifest.sources:
            yield unique_id, self.connection_of(self.manifest.sources[unique_id])
            return
        node = self.manifest.nodes.get(unique_id)
        if node is None or unique_id in seen:
            return
        if node.resource_type == NodeType.Model and node.config.materialized == "ephemeral":
            for dep in node.depends_on.nodes:
                yield from self._locations(dep, seen | {unique_id})
            return
        if node.resource_type in WRITTEN_TYPES:
            yield unique_id, self.target_of(node)

    # -- resolution ------------------------------------------------------------------------

    def resolve(self, node: Any) -> NodeResolution:
        cached = self._cache.get(node.unique_id)
        if cached is not None:
            return cached
        depends_on = getattr(getattr(node, "depends_on", None), "nodes", ())
        inputs = tuple(pair for dep in depends_on for pair in self._locations(dep))
        if node.resource_type in WRITTEN_TYPES:
            target = self.target_of(node)
        elif node.resource_type == NodeType.Source:
            target = self.connection_of(node)  # where `source freshness` queries it
        else:
            target = self._home_of_check(node, inputs)
        federated = any(t != target for _, t in inputs)
        resolution = NodeResolution(
            unique_id=node.unique_id,
            target=target,
            default_target=self.targets.default,
            path=ExecutionPath.FEDERATION if federated else ExecutionPath.PUSHDOWN,
            inputs=inputs,
            compute=self.compute_of(node) if federated else None,
            bucket=self.bucket_of(node) if federated else None,
            placement=self.placement_of(node) if federated else None,
        )
        self._cache[node.unique_id] = resolution
        return resolution

    def _home_of_check(self, node: Any, inputs: tuple[tuple[str, str], ...]) -> str:
        """A test runs where the node it tests lives; another read-only node (an inline query,
        an analysis) where all its inputs live, else on the default target."""
        attached = getattr(node, "attached_node", None)
        for unique_id, target in inputs:
            if unique_id == attached:
                return target
        homes = {target for _, target in inputs}
        if len(homes) == 1 and (node.resource_type == NodeType.Test or self._writable(*homes)):
            return homes.pop()
        return self.targets.default

    def _writable(self, name: str) -> bool:
        spec = self.targets.specs.get(name)
        return spec is not None and not spec.source_only

    def _configured_compute(self, node: Any) -> str | None:
        return _one_name(node.config.get("compute"), "compute", node, self.computes.specs)

    def _configured_bucket(self, node: Any) -> str | None:
        return _one_name(node.config.get("bucket"), "bucket", node, self.buckets.specs)

    def compute_of(self, node: Any) -> str:
        name = self.compute_override or self._configured_compute(node) or self.computes.default
        self.computes.require(name, used_by=_where(node))
        return name

    def bucket_of(self, node: Any) -> str | None:
        """Where a federated node stages its data: `--bucket`, else its `bucket` config, else
        the buckets.yml default, else nowhere (streamed straight into the target)."""
        name = self.bucket_override or self._configured_bucket(node) or self.buckets.default
        if name:
            self.buckets.require(name, used_by=_where(node))
        return name or None

    def placement_of(self, node: Any) -> str:
        """`--placement`, else the node's `placement` config, else `auto`."""
        name = self.placement_override or node.config.get("placement") or "auto"
        if name not in PLACEMENTS:
            used_by = "The --placement option" if self.placement_override else _where(node)
            raise InvalidPlacementError(
                f"{used_by} sets placement {name!r}; use one of {', '.join(PLACEMENTS)}."
            )
        return str(name)

    def validate(self) -> None:
        """Resolve every enabled node and source, so bad names fail at parse time."""
        for source in self.manifest.sources.values():
            self.connection_of(source)
        if self.compute_override:
            self.computes.require(self.compute_override, used_by="The --compute option")
        if self.bucket_override:
            self.buckets.require(self.bucket_override, used_by="The --bucket option")
        for node in self.manifest.nodes.values():
            self.resolve(node)
            if node.resource_type not in WRITTEN_TYPES:
                continue
            compute, bucket = self._configured_compute(node), self._configured_bucket(node)
            if compute:
                self.computes.require(compute, used_by=_where(node))
            if bucket:
                self.buckets.require(bucket, used_by=_where(node))
            if node.config.get("placement"):
                self.placement_of(node)
