"""DVT's warnings through dbt's event manager: `warn` is a dbt warning, `note` (DVT005, a
debug line) becomes an error or is silenced only where its code is named."""

from __future__ import annotations

from typing import Any

import pytest
from dbt_common.events.functions import get_event_manager
from dbt_common.exceptions import EventCompilationError
from dbt_common.helper_types import WarnErrorOptionsV2

from dvt import events
from dvt.dbt_seams.flags import EVENT_NAMES


@pytest.fixture
def fired(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    manager = get_event_manager()
    caught: list[Any] = []
    monkeypatch.setattr(manager, "callbacks", [caught.append])
    monkeypatch.setattr(manager, "loggers", [])
    monkeypatch.setattr(manager, "_warn_error", False)
    monkeypatch.setattr(manager, "_warn_error_options", WarnErrorOptionsV2())
    return caught


def _options(**names: Any) -> WarnErrorOptionsV2:
    return WarnErrorOptionsV2(**names, valid_error_names=EVENT_NAMES)


def test_a_warning_is_an_event_named_by_its_code(fired: list[Any]) -> None:
    events.warn("DVT002", "a numeric column")
    (message,) = fired
    assert (message.info.name, message.info.code, message.info.level) == (
        "DVT002",
        "DVT002",
        "warn",
    )
    assert message.info.msg == "[DVT002] a numeric column"


def test_warn_error_makes_a_warning_an_error_but_leaves_a_note(fired: list[Any]) -> None:
    get_event_manager().warn_error = True
    with pytest.raises(EventCompilationError, match=r"\[DVT001\] a view"):
        events.warn("DVT001", "a view")
    events.note("DVT005", "a predicate kept")
    assert [m.info.level for m in fired] == ["debug"]


def test_a_note_errors_or_is_silenced_only_where_named(fired: list[Any]) -> None:
    manager = get_event_manager()
    manager.warn_error_options = _options(error="all")
    events.note("DVT005", "kept")  # "all" does not name it
    manager.warn_error_options = _options(error=["DVT005"])
    with pytest.raises(EventCompilationError, match="DVT005"):
        events.note("DVT005", "kept")
    manager.warn_error_options = _options(silence=["DVT005"])
    events.note("DVT005", "kept")
    assert len(fired) == 1
