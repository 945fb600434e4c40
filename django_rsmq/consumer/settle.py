"""Batched settle: the acks of finished messages go to Redis together.

A worker whose handler returned hands the message to the :class:`Settler` and takes
the next one; the settler's thread acks everything handed over within
``ack_interval`` seconds (or as soon as ``batch`` messages wait) in one ``ack_many``
per connection. A message is never acked before its handler returned, and it stays
tracked by the visibility keeper (hidden) until its ack's reply came back; only then
does it count as processed (``message_processed``, the counters, ``--max-messages``).

:meth:`Settler.close` (warm stop) flushes every pending ack; :meth:`Settler.abandon`
(cold stop) drops them: those messages are delivered again after their visibility
timeout, like a handler cut off mid-way.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import NamedTuple

from ..engine import BATCH_MAX, RSMQ, Message
from .processing import MessageProcessor, Result
from .trouble import describe, expected

__all__ = ["Settler"]

log = logging.getLogger("django_rsmq.consumer")


class _Pending(NamedTuple):
    rsmq: RSMQ
    message: Message
    duration: float


class Settler:
    """Coalesces acks; ``done([(message, result), ...])`` runs (on its thread) once
    per ``ack_many`` call, with the outcome of each of its messages."""

    def __init__(
        self,
        processor: MessageProcessor,
        done: Callable[[list[tuple[Message, Result]]], None],
        *,
        interval: float = 0.005,
        batch: int = 200,
    ) -> None:
        self.processor = processor
        self.done = done
        self.interval = interval
        self.batch = batch
        self.flushes = 0  # ack_many calls made (tests, benchmarks)
        self._cond = threading.Condition()
        self._pending: list[_Pending] = []
        self._first_at = 0.0
        self._flushing = 0
        self._closing = False
        self._abandoned = False
        self._thread = threading.Thread(target=self._main, name="rsmq-settle", daemon=True)
        self.on_exit: Callable[[], None] | None = None

    @property
    def name(self) -> str:
        return self._thread.name

    def start(self) -> None:
        self._thread.start()

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def ack(self, rsmq: RSMQ, message: Message, duration: float) -> None:
        """Ack ``message`` (its handler returned) with the next flush."""
        with self._cond:
            if self._abandoned:
                return  # cold stop: it comes back after its visibility timeout
            self._pending.append(_Pending(rsmq, message, duration))
            n = len(self._pending)
            if n == 1:
                self._first_at = time.monotonic()
                self._cond.notify()
            elif n >= self.batch:
                self._cond.notify()

    def pending(self) -> int:
        """Finished messages whose ack has not been applied yet."""
        with self._cond:
            return len(self._pending) + self._flushing

    def close(self, timeout: float) -> bool:
        """Warm stop: flush everything pending, then end; ``False`` if that took longer
        than ``timeout`` (the rest is delivered again after its visibility timeout)."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        if self._thread.ident is not None:
            self._thread.join(timeout)
        return self.pending() == 0

    def finish(self, cold: bool, timeout: float) -> int:
        """End at a stop: warm, flush every pending ack (within ``max(5 s, timeout)``);
        cold, drop them (redelivered after their vt). Returns how many handled messages
        were left unacked."""
        if not cold and self.close(timeout=max(5.0, timeout)):
            return 0
        return self.abandon()

    def abandon(self) -> int:
        """Cold stop: ack nothing more; returns how many finished messages were dropped."""
        with self._cond:
            self._abandoned = True
            dropped = len(self._pending)
            self._pending = []
            self._cond.notify()
            return dropped + self._flushing

    def _main(self) -> None:
        try:
            while self._next():
                pass
        finally:
            if self.on_exit is not None:
                self.on_exit()

    def _next(self) -> bool:
        with self._cond:
            while not self._pending and not self._closing and not self._abandoned:
                self._cond.wait()
            deadline = self._first_at + self.interval
            while (
                len(self._pending) < self.batch
                and not self._closing
                and not self._abandoned
                and (left := deadline - time.monotonic()) > 0
            ):
                self._cond.wait(left)
            if self._abandoned or (self._closing and not self._pending):
                return False
            items, self._pending = self._pending, []
            self._flushing = len(items)
        try:
            self.flush(items)
        finally:
            with self._cond:
                self._flushing = 0
        return True

    def flush(self, items: list[_Pending]) -> None:
        groups: dict[int, list[_Pending]] = {}
        for p in items:
            groups.setdefault(id(p.rsmq), []).append(p)
        for group in groups.values():
            # A settler starved of CPU may find more than one ack_many takes.
            for start in range(0, len(group), BATCH_MAX):
                self._flush_one(group[start : start + BATCH_MAX])

    def _flush_one(self, group: list[_Pending]) -> None:
        self.flushes += 1
        try:
            outcomes = group[0].rsmq.ack_many([p.message.receipt for p in group])
        except Exception as exc:  # Redis down, OOM, ...: every ack of the call failed
            log.warning(
                "Handled %d message(s) but could not ack them (%s): they will be "
                "delivered again after their visibility timeout",
                len(group),
                describe(exc),
                exc_info=None if expected(exc) else exc,
            )
            self._done([(p.message, Result("unsettled", p.duration, exc)) for p in group])
            return
        settled = []
        acked = self.processor.acked
        for p, outcome in zip(group, outcomes, strict=True):
            try:
                result = acked(p.message, p.duration, outcome.error)
            except Exception as exc:  # an unexpected per-receipt error: that one only
                log.error("Could not ack %s: %s", p.message.receipt, describe(exc), exc_info=exc)
                result = Result("unsettled", p.duration, exc)
            settled.append((p.message, result))
        self._done(settled)

    def _done(self, settled: list[tuple[Message, Result]]) -> None:
        try:
            self.done(settled)
        except Exception:  # a bug in bookkeeping: the other batches still settle
            log.exception("Settling %d message(s) failed", len(settled))
