"""The `dvt` command handles SIGTERM as Ctrl-C while it runs (both mark the running invocation
interrupted first), and leaves a handler that someone else installed alone."""

from __future__ import annotations

import signal
import threading
from types import SimpleNamespace
from typing import Any

import pytest

from dvt import invocation
from dvt.cli.main import signals_as_ctrl_c


def test_sigterm_raises_keyboard_interrupt_while_the_command_runs() -> None:
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    with pytest.raises(KeyboardInterrupt), signals_as_ctrl_c():
        signal.raise_signal(signal.SIGTERM)
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_marks_the_invocation_and_raises_keyboard_interrupt(
    signum: signal.Signals, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mark comes before dbt's cancellation, which a federated node checks between steps."""
    running = SimpleNamespace(interrupted=threading.Event())
    monkeypatch.setattr(invocation, "_CURRENT", running)
    # Python's own handling, whatever an earlier test in this worker left (pytest-xdist, or
    # dbt run in-process, may hold SIGINT).
    unset = signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL
    previous = signal.signal(signum, unset)
    try:
        with pytest.raises(KeyboardInterrupt), signals_as_ctrl_c():
            signal.raise_signal(signum)
        assert signal.getsignal(signum) is unset
    finally:
        signal.signal(signum, previous)
    assert running.interrupted.is_set()


def test_a_handler_of_the_caller_is_kept() -> None:
    seen: list[int] = []

    def handler(signum: int, frame: Any) -> None:
        seen.append(signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        with signals_as_ctrl_c():
            signal.raise_signal(signal.SIGTERM)
        assert seen == [signal.SIGTERM]
        assert signal.getsignal(signal.SIGTERM) is handler
    finally:
        signal.signal(signal.SIGTERM, previous)
