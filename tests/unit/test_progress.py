"""A node moving rows for a while says so: rows moved and the rate, at most every few seconds."""

from __future__ import annotations

import pytest

from dvt.execution import progress


def test_progress_lines_come_at_the_interval_with_the_rows_so_far(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lines: list[tuple[str, int]] = []
    monkeypatch.setattr(
        progress.events, "progress", lambda node, rows, s: lines.append((node, rows))
    )
    clock = iter([0.0, 1.0, 6.0, 7.0, 12.5])
    monkeypatch.setattr(progress.time, "monotonic", lambda: next(clock))
    moved = progress.Progress("model.p.big")  # started at 0 s
    moved.moved(100)  # 1 s: too early
    moved.moved(200)  # 6 s: a line
    moved.moved(300)  # 7 s: too soon after it
    moved.moved(400)  # 12.5 s: a line
    assert lines == [("model.p.big", 300), ("model.p.big", 1000)]
