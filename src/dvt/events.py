"""DVT's user-facing messages, fired through dbt's event system (so `--log-format json`,
log files and `--quiet` treat them exactly like dbt's own)."""

from __future__ import annotations

from dbt_common.events.base_types import EventLevel
from dbt_common.events.functions import fire_event
from dbt_common.events.types import Note


def info(message: str) -> None:
    fire_event(Note(msg=message), level=EventLevel.INFO)


def warn(code: str, message: str) -> None:
    """A warning with its stable DVT code in front, e.g. `[DVT001] ...`."""
    fire_event(Note(msg=f"[{code}] {message}"), level=EventLevel.WARN)


def debug(message: str) -> None:
    fire_event(Note(msg=message), level=EventLevel.DEBUG)
