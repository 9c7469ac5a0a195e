"""DVT's messages and build events, fired through dbt's event system (so text and JSON logs, log
files, `--quiet` and `dvtRunner` callbacks treat them exactly like dbt's own).

Messages (`info`, `debug`) are dbt `Note`s. A warning (`warn`) is an event named by its DVT code
(`DVT001`...), fired as dbt fires its own warnings, so `--warn-error` makes it an error and
`--warn-error-options` names it (`{"error": ["DVT001"]}`, `{"silence": ["DVT002"]}`). Build events
are DVT's own event types, added
the way dbt-core and dbt-adapters add theirs: dbt_common finds an event's protobuf message by the
event's class name in the class's `PROTO_TYPES_MODULE`, so this module declares DVT's messages
(enveloped with dbt's own `EventInfo`) when it loads. In `--log-format json` such an event names
itself (`info.name`, e.g. `DvtBuildPlan`), carries a stable code (`info.code`, e.g. `DVT201`) and
its counts under `data`.
"""

from __future__ import annotations

import types
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from dbt_common.events import types_pb2
from dbt_common.events.base_types import EventLevel, InfoLevel, WarnLevel
from dbt_common.events.functions import fire_event, get_event_manager, warn_or_error
from dbt_common.events.types import Note
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

_Field = descriptor_pb2.FieldDescriptorProto
_PACKAGE = "dvt.events"
_COUNT_FIELDS = (
    ("resource_type", _Field.TYPE_STRING),
    ("total", _Field.TYPE_INT32),
    ("succeeded", _Field.TYPE_INT32),
    ("warned", _Field.TYPE_INT32),
    ("failed", _Field.TYPE_INT32),
    ("skipped", _Field.TYPE_INT32),
)
#: DVT's protobuf messages, fields in field-number order: a scalar type, or another message's
#: name (`[]` for a repeated field). Fields are only ever added at the end, so numbers stay stable.
_MESSAGES: dict[str, tuple[tuple[str, int | str], ...]] = {
    "DvtTypeCounts": _COUNT_FIELDS,
    "DvtBuildPlan": (
        ("seeds", _Field.TYPE_INT32),
        ("models", _Field.TYPE_INT32),
        ("pushdown_models", _Field.TYPE_INT32),
        ("federated_models", _Field.TYPE_INT32),
        ("tests", _Field.TYPE_INT32),
        ("snapshots", _Field.TYPE_INT32),
        ("unit_tests", _Field.TYPE_INT32),
        ("ephemeral_models", _Field.TYPE_INT32),
    ),
    "DvtEngineStarting": (("compute", _Field.TYPE_STRING), ("engine", _Field.TYPE_STRING)),
    "DvtTypeComplete": (*_COUNT_FIELDS, ("execution_time", _Field.TYPE_DOUBLE)),
    "DvtBuildComplete": (("counts", "DvtTypeCounts[]"), ("execution_time", _Field.TYPE_DOUBLE)),
    "DvtRowsMoved": (
        ("node", _Field.TYPE_STRING),
        ("rows", _Field.TYPE_INT64),
        ("seconds", _Field.TYPE_DOUBLE),
    ),
}
#: DVT's warnings, each an event of that name (`note` fires the debug-level ones).
WARNING_CODES = ("DVT001", "DVT002", "DVT003", "DVT005", "DVT106")
_MESSAGES.update({code: (("msg", _Field.TYPE_STRING),) for code in WARNING_CODES})
_EVENTS = (
    *WARNING_CODES,
    "DvtBuildPlan",
    "DvtEngineStarting",
    "DvtTypeComplete",
    "DvtBuildComplete",
    "DvtRowsMoved",
)


def _declare_messages() -> types.ModuleType:
    """Add DVT's messages to protobuf's default pool (where dbt's `EventInfo` lives) and return
    them as a module, with a `<Event>Msg` envelope (`info`, `data`) for each event."""
    info = types_pb2.EventInfo.DESCRIPTOR
    file = descriptor_pb2.FileDescriptorProto(
        name="dvt/events.proto", package=_PACKAGE, syntax="proto3", dependency=[info.file.name]
    )
    for name, fields in _MESSAGES.items():
        message = file.message_type.add(name=name)
        for number, (field_name, kind) in enumerate(fields, start=1):
            field = message.field.add(name=field_name, number=number, label=_Field.LABEL_OPTIONAL)
            if isinstance(kind, int):
                field.type = kind
                continue
            field.type = _Field.TYPE_MESSAGE
            field.type_name = f".{_PACKAGE}.{kind.removesuffix('[]')}"
            if kind.endswith("[]"):
                field.label = _Field.LABEL_REPEATED
    for name in _EVENTS:
        envelope = file.message_type.add(name=f"{name}Msg")
        envelope.field.add(
            name="info", number=1, type=_Field.TYPE_MESSAGE, type_name=f".{info.full_name}"
        )
        envelope.field.add(
            name="data", number=2, type=_Field.TYPE_MESSAGE, type_name=f".{_PACKAGE}.{name}"
        )
    pool = descriptor_pool.Default()
    pool.AddSerializedFile(file.SerializeToString())
    module = types.ModuleType("dvt_events_pb2")
    for message in file.message_type:
        descriptor = pool.FindMessageTypeByName(f"{_PACKAGE}.{message.name}")
        setattr(module, message.name, message_factory.GetMessageClass(descriptor))
    return module


_PROTOS = _declare_messages()


@dataclass(frozen=True)
class PlanCounts:
    """What a build runs, by node type; `federated_models` are part of `models`. Ephemeral
    models are not: dbt inlines them into the nodes that ref them."""

    seeds: int
    models: int
    federated_models: int
    tests: int
    snapshots: int
    unit_tests: int = 0
    ephemeral_models: int = 0

    @property
    def pushdown_models(self) -> int:
        return self.models - self.federated_models

    def __str__(self) -> str:
        unit_tests = f", {self.unit_tests} unit tests" if self.unit_tests else ""
        ephemeral = f" + {self.ephemeral_models} ephemeral" if self.ephemeral_models else ""
        return (
            f"Build plan: {self.seeds} seeds, {self.models} models "
            f"({self.pushdown_models} pushdown, {self.federated_models} federation){ephemeral}, "
            f"{self.tests} tests{unit_tests}, {self.snapshots} snapshots"
        )


@dataclass(frozen=True)
class TypeCounts:
    """The results of one node type: `total` selected, and how they ended."""

    resource_type: str
    total: int
    succeeded: int = 0
    warned: int = 0
    failed: int = 0
    skipped: int = 0

    @property
    def ok(self) -> int:
        """Nodes that did not fail: a warning test passed the build."""
        return self.succeeded + self.warned

    @property
    def label(self) -> str:
        return f"{self.resource_type.replace('_', ' ')}s"

    def __str__(self) -> str:
        return f"{self.label}: {self.ok}/{self.total}"


class _DvtEvent(InfoLevel):
    """A DVT event: its protobuf message is declared above, its code is stable."""

    PROTO_TYPES_MODULE = _PROTOS
    CODE: ClassVar[str]

    def code(self) -> str:
        return self.CODE


class DvtBuildPlan(_DvtEvent):
    CODE = "DVT201"

    def message(self) -> str:
        return str(
            PlanCounts(
                self.seeds,
                self.models,
                self.federated_models,
                self.tests,
                self.snapshots,
                self.unit_tests,
                self.ephemeral_models,
            )
        )


class DvtEngineStarting(_DvtEvent):
    CODE = "DVT202"

    def message(self) -> str:
        return f"Initializing {self.compute} compute for federation..."


class DvtTypeComplete(_DvtEvent):
    CODE = "DVT203"

    def message(self) -> str:
        counts = _type_counts(self)
        problems = [
            f"{n} {word}"
            for n, word in (
                (counts.warned, "warned"),
                (counts.failed, "failed"),
                (counts.skipped, "skipped"),
            )
            if n
        ]
        done = ", ".join([f"{counts.ok}/{counts.total} OK", *problems])
        return f"Completed {counts.label}: {done} ({self.execution_time:.1f}s)"


class DvtBuildComplete(_DvtEvent):
    CODE = "DVT204"

    def message(self) -> str:
        parts = ", ".join(str(_type_counts(c)) for c in self.counts)
        return f"Build complete in {self.execution_time:.1f}s - {parts}"


class DvtRowsMoved(_DvtEvent):
    CODE = "DVT205"

    def message(self) -> str:
        rate = self.rows / self.seconds if self.seconds else 0
        return (
            f"{self.node}: {self.rows:,} rows moved in {self.seconds:.1f}s "
            f"({rate:,.0f} rows/s), still moving"
        )


class _DvtWarning(WarnLevel):
    """A DVT warning: the event's name is its code, as `--warn-error-options` names it."""

    PROTO_TYPES_MODULE = _PROTOS

    def code(self) -> str:
        return type(self).__name__

    def message(self) -> str:
        return f"[{self.code()}] {self.msg}"


WARNINGS: dict[str, type[_DvtWarning]] = {
    code: type(code, (_DvtWarning,), {"__doc__": f"Warning {code} (docs/errors.md)."})
    for code in WARNING_CODES
}


def _type_counts(message: Any) -> TypeCounts:
    return TypeCounts(**{name: getattr(message, name) for name, _ in _COUNT_FIELDS})


def info(message: str) -> None:
    fire_event(Note(msg=message), level=EventLevel.INFO)


def warn(code: str, message: str) -> None:
    """A warning with its stable DVT code in front, e.g. `[DVT001] ...`: raises dbt's
    `EventCompilationError` where `--warn-error` or `--warn-error-options` make it an error."""
    warn_or_error(WARNINGS[code](msg=message))


def note(code: str, message: str) -> None:
    """A debug-level message with its DVT code (DVT005): an error or silenced only where
    `--warn-error-options` names the code itself, so `--warn-error` alone leaves it alone."""
    event = WARNINGS[code](msg=message)
    options = get_event_manager().warn_error_options._warn_error_options_v2
    named = any(
        isinstance(names, list) and code in names for names in (options.error, options.silence)
    )
    fire_event(event, level=EventLevel.DEBUG, force_warn_or_error_handling=named)


def debug(message: str) -> None:
    fire_event(Note(msg=message), level=EventLevel.DEBUG)


def build_plan(counts: PlanCounts) -> None:
    """`Build plan: 3 seeds, 10 models (7 pushdown, 3 federation), 15 tests, 2 snapshots`
    (`, 4 unit tests` before the snapshots when the build runs any)."""
    fire_event(DvtBuildPlan(**asdict(counts), pushdown_models=counts.pushdown_models))


def engine_starting(compute: str, engine: str) -> None:
    """`Initializing duckdb compute for federation...`, once per compute and invocation."""
    fire_event(DvtEngineStarting(compute=compute, engine=engine))


def type_complete(counts: TypeCounts, execution_time: float) -> None:
    """`Completed seeds: 3/3 OK (8.2s)`: the last selected node of a type has finished."""
    fire_event(DvtTypeComplete(**asdict(counts), execution_time=execution_time))


def build_complete(counts: Iterable[TypeCounts], execution_time: float) -> None:
    """`Build complete in 49.0s - seeds: 3/3, models: 10/10, snapshots: 2/2, tests: 14/15`."""
    fire_event(DvtBuildComplete(counts=[asdict(c) for c in counts], execution_time=execution_time))


def progress(node: str, rows: int, seconds: float) -> None:
    """`model.shop.big: 12,000,000 rows moved in 10.0s (1,200,000 rows/s), still moving`."""
    fire_event(DvtRowsMoved(node=node, rows=rows, seconds=seconds))
