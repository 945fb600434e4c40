"""Keeps received messages hidden while we hold them.

Every message the consumer holds (prefetched or being handled) is tracked with the
visibility timeout it was received with. Half a vt after its last extension the
keeper moves it ``vt`` seconds ahead again (fenced by its receipt), so a handler that
runs longer than its vt is not redelivered to another consumer while this one is
alive. :meth:`VisibilityKeeper.untrack` stops it as soon as the handler returns;
after a cold stop or a crash the extensions stop and the message comes back after
at most one vt.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import redis

from ..engine import RSMQ, Message

__all__ = ["VisibilityKeeper"]

log = logging.getLogger("django_rsmq.consumer")


@dataclass(slots=True)
class _Held:
    rsmq: RSMQ
    message: Message
    vt: float
    extended_at: float

    @property
    def due(self) -> float:
        return self.extended_at + self.vt / 2


class VisibilityKeeper:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[str, _Held] = {}
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rsmq-visibility", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop extending anything (cold stop: held messages return after their vt)."""
        self._stopped.set()
        self._wake.set()

    def track(self, rsmq: RSMQ, message: Message, vt: float, received_at: float) -> None:
        with self._lock:
            self._held[message.receipt] = _Held(rsmq, message, vt, received_at)
        self._wake.set()

    def untrack(self, message: Message) -> None:
        with self._lock:
            self._held.pop(message.receipt, None)

    def held(self) -> int:
        with self._lock:
            return len(self._held)

    def _run(self) -> None:
        while not self._stopped.is_set():
            now = time.monotonic()
            with self._lock:
                due = [h for h in self._held.values() if h.due <= now]
            groups: dict[tuple[int, float], list[_Held]] = {}
            for h in due:
                groups.setdefault((id(h.rsmq), h.vt), []).append(h)
            for group in groups.values():
                self._extend(group)
            with self._lock:  # next due time, counting the extensions just made
                next_due = min((h.due for h in self._held.values()), default=now + 1.0)
            self._wake.wait(max(0.005, min(next_due, time.monotonic() + 1.0) - time.monotonic()))
            self._wake.clear()

    def _extend(self, group: list[_Held]) -> None:
        """Extend messages of one connection and vt in one round trip.

        The lock is held across the Redis call so that untrack() (which the worker
        calls before it acks or fails the message) never races an extension that would
        overwrite a retry delay.
        """
        with self._lock:
            live = [h for h in group if self._held.get(h.message.receipt) is h]
            if self._stopped.is_set() or not live:
                return
            rsmq, vt = live[0].rsmq, live[0].vt
            try:
                outcomes = rsmq.change_visibility_by_receipt_many(
                    [h.message.receipt for h in live], vt
                )
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                log.warning("Could not extend %d message(s) (will retry): %s", len(live), exc)
                for h in live:
                    h.extended_at = time.monotonic() - vt / 2 + min(0.5, vt / 4)
                return
            now = time.monotonic()
            for h, outcome in zip(live, outcomes, strict=True):
                if outcome.ok:
                    h.extended_at = now
                    continue
                # StaleReceipt / MessageNotFound: the message is no longer ours.
                log.warning("Stopped extending %s: %s", h.message.receipt, outcome.error)
                self._held.pop(h.message.receipt, None)
        log.debug("Extended %d message(s) by %ss", len(live), vt)
