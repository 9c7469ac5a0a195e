"""`KeptConnections`: one connection per load, kept between loads, never one that failed."""

from __future__ import annotations

import pytest

from dvt.connections import KeptConnections


class Handle:
    """Stands for a connection: whether it answers, and whether it was closed."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.answers = True
        self.closed = False

    def close(self) -> None:
        self.closed = True


def test_a_connection_is_kept_between_loads_and_closed_at_the_end() -> None:
    opened: list[Handle] = []

    def open_one() -> Handle:
        opened.append(Handle(len(opened)))
        return opened[-1]

    def ready(handle: Handle) -> None:
        if not handle.answers:
            raise ConnectionError("gone")

    kept = KeptConnections()
    # Two loads at once: two connections.
    with kept.borrow("pg", open_one, ready) as first, kept.borrow("pg", open_one, ready) as second:
        assert second is not first
    with kept.borrow("pg", open_one, ready) as again:
        assert again in opened
    assert len(opened) == 2
    with pytest.raises(RuntimeError), kept.borrow("pg", open_one, ready) as failing:
        raise RuntimeError("the load failed")
    assert failing.closed  # never lent again
    for handle in opened:
        handle.answers = False  # the server went away
    with kept.borrow("pg", open_one, ready) as fresh:
        assert fresh is opened[-1] and fresh.number == 2
        fresh.answers = True
    assert all(h.closed for h in opened[:2])
    kept.close()
    assert all(h.closed for h in opened)


def test_a_new_connection_that_is_not_ready_fails_the_load() -> None:
    def ready(handle: Handle) -> None:
        raise ConnectionError("refused")

    handle = Handle(0)
    with pytest.raises(ConnectionError), KeptConnections().borrow("pg", lambda: handle, ready):
        pass
    assert handle.closed
