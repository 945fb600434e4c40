"""What the consumer prints: a line per message at ``-v 2``, a progress line at ``-v 1``."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ..engine import Message
from .hooks import Counters, Hooks
from .trouble import describe

__all__ = ["LineReporter", "Progress"]


class LineReporter(Hooks):
    """``-v 2``: one line per settled message."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self.write = write

    def processed(self, message: Message, duration: float) -> None:
        self.write(f"processed {message.queue} {message.id} rc={message.rc} in {duration:.3f}s")

    def failed(self, message: Message, exception: BaseException, will_retry: bool) -> None:
        then = "will retry" if will_retry else "no retry"
        self.write(
            f"failed {message.queue} {message.id} rc={message.rc}: {describe(exception)} ({then})"
        )

    def dead_lettered(self, message: Message, dead_letter_queue: str | None) -> None:
        self.write(f"dead-lettered {message.queue} {message.id} -> {dead_letter_queue}")


class Progress:
    """``-v 1``: ``processed=N failed=M rate=R/s`` every ``interval`` seconds."""

    def __init__(self, counters: Counters, write: Callable[[str], None], interval: float) -> None:
        self.counters = counters
        self.write = write
        self.interval = interval
        self._lock = threading.Lock()
        self._last_at = time.monotonic()
        self._last_total = 0

    def due(self) -> bool:
        return time.monotonic() - self._last_at >= self.interval

    def line(self) -> str:
        with self._lock:
            now = time.monotonic()
            snap = self.counters.snapshot()
            total = snap["processed"] + snap["failed"]
            rate = (total - self._last_total) / max(now - self._last_at, 1e-9)
            self._last_at, self._last_total = now, total
        return (
            f"progress processed={snap['processed']} failed={snap['failed']} "
            f"in_flight={len(snap['current'])} rate={rate:.1f}/s"
        )

    def tick(self) -> None:
        if self.due():
            self.write(self.line())
