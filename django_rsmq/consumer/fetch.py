"""Receiving for the consumer: one :class:`Fetcher` per connection (and vt override).

A fetcher takes as many free slots as it can get (at least one, blocking),
long-polls its queues for at most that many messages in one ``receive_from`` call,
and hands them to the workers. The pool has ``concurrency + prefetch`` slots: a
slot is taken from receipt until the handler returned, so at most ``prefetch``
received messages wait for a worker.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable, Sequence

from ..engine import RSMQ, Message
from ..engine.protocol.base import BATCH_MAX
from ..engine.serializers import Serializer
from .trouble import Trouble

__all__ = ["Fetcher", "SlotPool", "receive"]

log = logging.getLogger("django_rsmq.consumer")


class SlotPool:
    """Free worker slots, handed out first come, first served.

    FIFO matters when several fetchers (queues on several connections) share few
    workers: a fetcher that just gave its slots back queues up behind the others
    instead of taking them again at once and starving them.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._free = size
        self._cond = threading.Condition()
        self._waiting: collections.deque[object] = collections.deque()

    def take(self, most: int, timeout: float) -> int:
        """Wait (up to ``timeout``) for one free slot, then take up to ``most`` in all."""
        if most <= 0:
            return 0
        with self._cond:  # nobody in line and a slot free: no ticket, no wait
            if not self._waiting and self._free:
                got = min(most, self._free)
                self._free -= got
                return got
        ticket = object()
        deadline = time.monotonic() + timeout
        with self._cond:
            self._waiting.append(ticket)
            try:
                while self._waiting[0] is not ticket or self._free == 0:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return 0
                    self._cond.wait(left)
                got = min(most, self._free)
                self._free -= got
                return got
            finally:
                self._waiting.remove(ticket)
                self._cond.notify_all()

    def give(self, n: int = 1) -> None:
        if n > 0:
            with self._cond:
                self._free += n
                if self._waiting:
                    self._cond.notify_all()


def receive(
    rsmq: RSMQ,
    queues: Sequence[str],
    count: int,
    *,
    vt: float | None,
    wait: float,
    serializer: Serializer,
    rotate: bool = True,
) -> list[Message]:
    """Up to ``count`` messages from ``queues`` (round robin; ``rotate=False``: in the
    order given), long-polling up to ``wait`` seconds for the first over the
    connection's one pub/sub listener."""
    return rsmq.receive_from(
        list(queues), count, vt=vt, wait=wait, serializer=serializer, rotate=rotate
    )


class Fetcher(threading.Thread):
    """Feeds ``deliver(rsmq, messages, received_at)`` (the messages of one receive)
    until ``stop`` is set."""

    def __init__(
        self,
        rsmq: RSMQ,
        queues: Sequence[str],
        *,
        vt: float | None,
        serializer: Serializer,
        slots: SlotPool,
        deliver: Callable[[RSMQ, list[Message], float], None],
        wait: float,
        stop: threading.Event,
        budget: Callable[[], int],
        on_empty: Callable[[Fetcher], None],
        order: Callable[[], list[str]] | None = None,
    ) -> None:
        super().__init__(name=f"rsmq-fetch-{'+'.join(queues)[:40]}", daemon=True)
        self.rsmq = rsmq
        self.queues = list(queues)
        self.vt = vt
        self.serializer = serializer
        self.slots = slots
        self.deliver = deliver
        self.wait = wait
        self.stop_event = stop
        self.budget = budget
        self.on_empty = on_empty
        # The queues' order for each receive (strict or weighted, selection.QueueOrder);
        # None: the engine rotates them (round robin).
        self.order = order
        self.on_exit: Callable[[], None] | None = None
        self.last_empty_at = 0.0
        self._trouble = Trouble(f"Receiving from {', '.join(self.queues)}", logging.ERROR)
        self._backoff = 0.1
        # Queues of a multi-queue receive that failed while the others were served.
        self._partial = Trouble(f"Skipped a queue of {', '.join(self.queues)}", logging.ERROR)

    def run(self) -> None:
        try:
            while not self.stop_event.is_set():
                try:
                    self._round()
                except Exception as exc:  # a bug in delivering: keep receiving
                    self._trouble.report(exc, self._backoff)
                    self.stop_event.wait(self._backoff)
                    self._backoff = min(self._backoff * 2, 5.0)
        finally:
            if self.on_exit is not None:
                self.on_exit()

    def _round(self) -> None:
        # One receive takes every free slot (workers + prefetch), up to the engine's cap.
        taken = self.slots.take(min(self.budget(), BATCH_MAX), timeout=0.2)
        if not taken:
            if self.budget() <= 0:
                self.stop_event.wait(0.2)
            return
        # An empty answer means "nothing was visible since asked_at": --burst compares
        # it with the last settle, so it must be taken before the receive, not after
        # (a retry made visible during the call would otherwise be missed).
        asked_at = time.monotonic()
        order = self.order
        try:
            messages = receive(
                self.rsmq,
                self.queues if order is None else order(),
                taken,
                vt=self.vt,
                wait=self.wait,
                serializer=self.serializer,
                rotate=order is None,
            )
        except Exception as exc:  # Redis down, queue deleted meanwhile, ...: keep going
            self.slots.give(taken)
            # The time the call took counts as back-off: a multi-queue receive with a
            # deleted queue raises only after waiting its full `wait` for the others, so
            # sleeping on top of that would leave the healthy queues unserved.
            spent = time.monotonic() - asked_at
            self._trouble.report(exc, max(0.0, self._backoff - spent))
            if spent < self._backoff:
                self.stop_event.wait(self._backoff - spent)
                self._backoff = min(self._backoff * 2, 5.0)
            return
        self._backoff = 0.1
        self._trouble.ok()
        errors = getattr(messages, "errors", None)  # Received: queues that failed this call
        if errors:
            for error in errors.values():
                self._partial.report(error)
        else:
            self._partial.ok()
        received_at = time.monotonic()
        self.slots.give(taken - len(messages))
        if not messages:
            self.last_empty_at = asked_at
            self.on_empty(self)
        if messages:
            self.deliver(self.rsmq, messages, received_at)
            if len(messages) < taken:
                # Fewer than asked for: the queue is keeping up, latency matters more
                # than batching. Let a worker woken for them take the GIL now rather
                # than when this thread next blocks (after building its next receive).
                time.sleep(0)
