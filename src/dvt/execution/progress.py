"""Progress of a node that moves rows for more than a few seconds: rows moved and the rate."""

from __future__ import annotations

import threading
import time

from dvt import events

#: Seconds between two progress lines of one node.
EVERY_SECONDS = 5.0


class Progress:
    """Counts the rows a node moves; every `EVERY_SECONDS` it logs how many and how fast. Streams
    of several inputs may count from several threads."""

    def __init__(self, node: str) -> None:
        self.node = node
        self.rows = 0
        self._started = time.monotonic()
        self._next = self._started + EVERY_SECONDS
        self._lock = threading.Lock()

    def moved(self, rows: int) -> None:
        with self._lock:
            self.rows += rows
            now = time.monotonic()
            if now < self._next:
                return
            self._next = now + EVERY_SECONDS
            total, seconds = self.rows, now - self._started
        events.progress(self.node, total, seconds)
