"""`dvt diff A B`: compare two relations on any targets without copying either (`dvt.diff`).

Exit codes are dbt's: 0 when A and B hold the same rows, 1 when they differ, 2 on an error.
"""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbt.node_types import NodeType
from dbt.parser.base import RelationUpdate
from dbt_common.events.functions import fire_event
from dbt_common.events.types import PrintEvent

from dvt import invocation
from dvt.connectors.standalone import attached_source
from dvt.dbt_seams.factory import active_adapter
from dvt.diff import hashing, report
from dvt.diff.compare import Difference, Row, Side, compare
from dvt.diff.hashing.base import Hasher
from dvt.diff.sides import FORMS, SideName, parse
from dvt.exceptions import DiffError, names_hint
from dvt.quoting import quote_literal

if TYPE_CHECKING:
    from dbt.config.runtime import RuntimeConfig
    from dbt.contracts.graph.manifest import Manifest

    from dvt.config.spec import TargetSpec
    from dvt.invocation import Invocation

_NODE_TYPES = (NodeType.Model, NodeType.Seed, NodeType.Snapshot)
#: The catalog a source-only target is attached as (`connectors.standalone`).
ATTACHED = "src"


class _Reader:
    """One side's own thread and connection, held for the whole diff (the two sides' queries
    run at once)."""

    def __init__(self, name: str) -> None:
        self._thread = ThreadPoolExecutor(1, thread_name_prefix=name)
        self._open = contextlib.ExitStack()
        self._connected = False

    def submit(self, sql: str) -> Future[list[Row]]:
        return self._thread.submit(self._run, sql)

    def _run(self, sql: str) -> list[Row]:
        if not self._connected:
            self._connect(self._open)
            self._connected = True
        return self._rows(sql)

    def _connect(self, open_until_closed: contextlib.ExitStack) -> None:
        raise NotImplementedError

    def _rows(self, sql: str) -> list[Row]:
        raise NotImplementedError

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._thread.submit(self._open.close).result()
        self._thread.shutdown()


class _TargetReader(_Reader):
    """A target with a dbt adapter: one connection of that adapter."""

    def __init__(self, dvt: Invocation, target: str, name: str, hasher: Hasher) -> None:
        super().__init__(name)
        self.adapter = dvt.pool.adapter_for(target)
        self.name = name
        self.hasher = hasher

    def _connect(self, open_until_closed: contextlib.ExitStack) -> None:
        with active_adapter(self.adapter):
            open_until_closed.enter_context(self.adapter.connection_named(self.name))
            for statement in self.hasher.session_sql:
                self._rows(statement, fetch=False)

    def _rows(self, sql: str, fetch: bool = True) -> list[Row]:
        with active_adapter(self.adapter):
            connections: Any = self.adapter.connections
            _, cursor = connections.add_query(sql, auto_begin=False)
            return [tuple(row) for row in cursor.fetchall()] if fetch else []


class _AttachedReader(_Reader):
    """A source-only target (SQLite, MySQL): read through its DuckDB scanner, attached as
    `src` in an embedded DuckDB, which hashes its rows as they stream by."""

    def __init__(self, spec: TargetSpec, name: str) -> None:
        super().__init__(name)
        self.spec = spec
        self._connection: Any = None

    def _connect(self, open_until_closed: contextlib.ExitStack) -> None:
        self._connection = open_until_closed.enter_context(attached_source(self.spec))

    def _rows(self, sql: str) -> list[Row]:
        return [tuple(row) for row in self._connection.execute(sql).fetchall()]


class DvtDiffTask:
    """Resolves A and B to relations on their targets and compares them."""

    def __init__(self, args: Any, config: RuntimeConfig, manifest: Manifest) -> None:
        self.args = args
        self.config = config
        self.manifest = manifest

    def run(self) -> Difference:
        dvt = invocation.current(self.config, self.manifest)
        key = [k.strip() for k in (self.args.key or "").split(",") if k.strip()]
        with self._sides(dvt) as (a, b):
            diff = compare(
                a, b, key, float_tolerance=self.args.float_tolerance, samples=self.args.samples
            )
        if self.args.output == "json":
            lines = [report.as_json(a, b, diff)]
        else:
            lines = report.as_text(a, b, diff)
        for line in lines:
            fire_event(PrintEvent(msg=line))
        return diff

    @staticmethod
    def interpret_results(diff: Difference) -> bool:
        return diff.identical

    @contextlib.contextmanager
    def _sides(self, dvt: Invocation) -> Iterator[tuple[Side, Side]]:
        readers: list[_Reader] = []
        state: Path | None = getattr(self.args, "state", None)
        if (self.args.b is None) == (state is None):
            raise DiffError(
                "dvt diff compares A and B (two arguments), or A against its build recorded in "
                "--state <folder> (one argument and --state)."
            )
        try:
            sides = []
            for letter, written in (("a", self.args.a), ("b", self.args.b)):
                if written is None:
                    assert state is not None
                    target, database, schema, name, label = _from_state(dvt, self.args.a, state)
                    written = label
                else:
                    target, database, schema, name, label = self._relation(dvt, parse(written))
                spec = dvt.targets.require(target, used_by=f"dvt diff {written!r}")
                hasher = hashing.for_type(spec.type)
                reader: _Reader
                if spec.source_only:
                    reader = _AttachedReader(spec, f"dvt_diff_{letter}")
                    database, schema = ATTACHED, _attached_schema(reader, name, schema)
                else:
                    reader = _TargetReader(dvt, target, f"dvt_diff_{letter}", hasher)
                readers.append(reader)
                sides.append(Side(label, target, database, schema, name, hasher, reader.submit))
            yield sides[0], sides[1]
        finally:
            for reader in readers:
                reader.close()

    def _relation(self, dvt: Invocation, side: SideName) -> tuple[str, str | None, str, str, str]:
        """(target, database, schema, name, label) of one side."""
        if side.form == "relation":
            assert side.target is not None
            spec = dvt.targets.require(side.target, used_by=f"dvt diff {side.written!r}")
            parts = side.parts
            if spec.source_only:  # its schema is found once attached (`_attached_schema`)
                return side.target, None, ".".join(parts[:-1]), parts[-1], side.name
            credentials = dvt.pool.config_for(side.target).credentials
            if len(parts) == 1:
                parts = [credentials.schema, *parts]
            database = parts[0] if len(parts) == 3 else credentials.database
            return side.target, database, parts[-2], parts[-1], ".".join(side.parts)
        if side.form == "source":
            source_name, table = side.parts
            for source in self.manifest.sources.values():
                if source.source_name == source_name and source.name == table:
                    assert dvt.resolver is not None
                    target = dvt.resolver.connection_of(source)
                    label = f"source {source_name}.{table}"
                    return target, source.database, source.schema, source.identifier, label
            known = [f"{s.source_name}.{s.name}" for s in self.manifest.sources.values()]
            raise DiffError(f"{side.written!r}: no such source. Sources: {names_hint(known)}.")
        node = self._node(side)
        target = side.target or dvt.resolve(node).target
        if side.target is not None and side.target != dvt.resolve(node).target:
            node = _rehomed(dvt, node, side.target)
        return target, node.database, node.schema, node.alias, node.name

    def _node(self, side: SideName) -> Any:
        found = [
            n
            for n in self.manifest.nodes.values()
            if n.resource_type in _NODE_TYPES and side.name in (n.name, n.unique_id)
        ]
        if len(found) > 1:
            names = names_hint(n.unique_id for n in found)
            raise DiffError(f"{side.written!r} names several nodes ({names}): give a unique_id.")
        if not found:
            raise DiffError(f"{side.written!r} names no model, seed or snapshot. Name {FORMS}.")
        if found[0].is_ephemeral_model:
            raise DiffError(f"{side.written!r} is ephemeral: it has no relation to compare.")
        return found[0]


def _rehomed(dvt: Invocation, node: Any, target: str) -> Any:
    """A copy of `node` with the relation name it would get on `target` (that target's
    credentials through the project's `generate_*_name` macros), as DVT names every node."""
    dvt.targets.require_writable(target, used_by=f"{node.unique_id} (dvt diff)")
    config = dvt.pool.config_for(target)
    moved = copy.deepcopy(node)
    assert dvt.manifest is not None
    with active_adapter(dvt.pool.adapter_for(target)):
        for component in ("database", "schema", "alias"):
            RelationUpdate(config, dvt.manifest, component)(moved, moved.config.get(component))
    return moved


def _from_state(
    dvt: Invocation, written: str, state: Path
) -> tuple[str, str | None, str, str, str]:
    """(target, database, schema, name, label) of node `written` as another invocation built
    it: its relation from `<state>/manifest.json`, its target from that invocation's
    run_results.json (where DVT records each node's target, else the `--target` it was given),
    else the node's `target` config there, else the profile's default."""
    manifest_file = state / "manifest.json"
    if not manifest_file.is_file():
        raise DiffError(
            f"--state {state}: no manifest.json there (a `dvt build`'s target/ folder)."
        )
    nodes = json.loads(manifest_file.read_text())["nodes"]
    found = [
        n
        for n in nodes.values()
        if n["resource_type"] in _NODE_TYPES and written in (n["name"], n["unique_id"])
    ]
    if len(found) != 1:
        named = "names several nodes" if found else "names no model, seed or snapshot"
        raise DiffError(f"{written!r} {named} in {manifest_file}.")
    node = found[0]
    target = node["config"].get("target") or dvt.targets.default
    results_file = state / "run_results.json"
    if results_file.is_file():
        results = json.loads(results_file.read_text())
        target = results.get("args", {}).get("target") or target
        for result in results.get("results", []):
            recorded = (result.get("adapter_response") or {}).get("dvt") or {}
            if result.get("unique_id") == node["unique_id"] and recorded.get("target"):
                target = recorded["target"]
    dvt.targets.require(target, used_by=f"{node['unique_id']} in {manifest_file}")
    label = f"{node['name']} (built by {state})"
    return target, node["database"], node["schema"], node["alias"], label


def _attached_schema(reader: _Reader, name: str, schema: str) -> str:
    """The schema the scanner shows a source-only table in: the source's own when it has the
    table there (MySQL's databases), else the one schema that has it (SQLite's `main`)."""
    found = reader.submit(
        "SELECT DISTINCT table_schema FROM information_schema.tables "
        f"WHERE table_catalog = '{ATTACHED}' AND table_name = {quote_literal(name)}"
    ).result()
    schemas = [str(r[0]) for r in found]
    return schema if schema in schemas or len(schemas) != 1 else schemas[0]
