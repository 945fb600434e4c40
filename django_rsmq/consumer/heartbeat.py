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
from collections.abc import Callable
from dataclasses import dataclass

from ..engine import RSMQ, Message
from ..engine.errors import QueueNotFound
from .trouble import Trouble, describe

__all__ = ["VisibilityKeeper"]

log = logging.getLogger("django_rsmq.consumer")


@dataclass(slots=True)
class _Held:
    rsmq: RSMQ
    message: Message
    vt: float
    extended_at: float
    extending: bool = False  # in an extension call right now (see untrack)

    @property
    def due(self) -> float:
        return self.extended_at + self.vt / 2


class VisibilityKeeper:
    """Extends the visibility of held messages from its own thread.

    No lock is held across a Redis call: the keeper marks the messages of an
    extension call, and only an :meth:`untrack` of one of *those* messages waits for
    the call to return (so an extension never lands after the worker's ack or fail,
    where it would overwrite a retry delay). Every other :meth:`track`,
    :meth:`untrack` and :meth:`held` returns at once, whatever Redis is doing.

    The thread survives every error: a failed extension (Redis down, ``OOM``,
    ``READONLY``, ``BUSY``) is logged once per kind and queue and retried within a
    quarter of the vt; the messages of a deleted queue are dropped (they are gone),
    the other queues' are extended as usual. If the thread dies anyway,
    :meth:`is_alive` says so and the consumer stops.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._held: dict[str, _Held] = {}
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._trouble = Trouble("The visibility keeper")
        self._troubles: dict[str, Trouble] = {}  # per queue: one failing, others fine
        self._sleep_until = 0.0  # when the keeper's thread wakes next by itself
        self._thread = threading.Thread(target=self._main, name="rsmq-visibility", daemon=True)
        self.on_exit: Callable[[], None] | None = None

    def start(self) -> None:
        self._thread.start()

    @property
    def name(self) -> str:
        return self._thread.name

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    @property
    def started(self) -> bool:
        return self._thread.ident is not None

    def stop(self) -> None:
        """Stop extending anything (cold stop: held messages return after their vt)."""
        self._stopped.set()
        self._wake.set()

    def track(self, rsmq: RSMQ, message: Message, vt: float, received_at: float) -> None:
        held = _Held(rsmq, message, vt, received_at)
        with self._cond:
            self._held[message.receipt] = held
            wake = held.due < self._sleep_until  # else its round comes anyway
        if wake:
            self._wake.set()

    def track_many(
        self, rsmq: RSMQ, messages: list[Message], vt: float, received_at: float
    ) -> None:
        """:meth:`track` for a receive's messages (one lock round trip)."""
        if not messages:
            return
        due = received_at + vt / 2
        with self._cond:
            held = self._held
            for message in messages:
                held[message.receipt] = _Held(rsmq, message, vt, received_at)
            wake = due < self._sleep_until
        if wake:
            self._wake.set()

    def untrack_many(self, messages: list[Message]) -> None:
        """:meth:`untrack` for several messages (one lock round trip unless one of them
        is being extended right now)."""
        with self._cond:
            for message in messages:
                h = self._held.pop(message.receipt, None)
                if h is not None and h.extending:
                    self._cond.wait_for(lambda h=h: not h.extending)  # type: ignore[misc]

    def untrack(self, message: Message) -> None:
        """Stop extending ``message``; returns once no extension of it is under way."""
        with self._cond:
            h = self._held.pop(message.receipt, None)
            if h is not None and h.extending:
                self._cond.wait_for(lambda: not h.extending)

    def held(self) -> int:
        with self._cond:
            return len(self._held)

    def _main(self) -> None:
        try:
            self._run()
        finally:
            if self.on_exit is not None:
                self.on_exit()

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                self._round()
            except Exception as exc:  # a bug: keep extending what we hold
                self._trouble.report(exc, 0.5)
                self._stopped.wait(0.5)

    def _round(self) -> None:
        now = time.monotonic()
        with self._cond:
            due = [h for h in self._held.values() if h.due <= now]
        groups: dict[tuple[int, float, str], list[_Held]] = {}
        for h in due:  # per queue: a deleted queue fails its own call only
            groups.setdefault((id(h.rsmq), h.vt, h.message.queue), []).append(h)
        for group in groups.values():
            self._extend(group)
        with self._cond:  # next due time, counting the extensions just made
            next_due = min((h.due for h in self._held.values()), default=now + 1.0)
            self._sleep_until = min(next_due, time.monotonic() + 1.0)
        self._wake.wait(max(0.005, self._sleep_until - time.monotonic()))
        self._wake.clear()

    def _extend(self, group: list[_Held]) -> None:
        """Extend messages of one connection, vt and queue in one round trip."""
        with self._cond:
            live = [h for h in group if self._held.get(h.message.receipt) is h]
            if self._stopped.is_set() or not live:
                return
            for h in live:
                h.extending = True
        try:
            self._call(live)
        finally:  # whatever happened, no untrack() may wait for this call any longer
            with self._cond:
                for h in live:
                    h.extending = False
                self._cond.notify_all()

    def _call(self, live: list[_Held]) -> None:
        rsmq, vt, qname = live[0].rsmq, live[0].vt, live[0].message.queue
        trouble = self._troubles.get(qname)
        if trouble is None:
            trouble = self._troubles[qname] = Trouble(f"Extending visibility in {qname!r}")
        try:
            outcomes = rsmq.change_visibility_by_receipt_many([h.message.receipt for h in live], vt)
        except QueueNotFound as exc:  # deleted with its messages: nothing left to extend
            log.warning("Stopped extending %d message(s): %s", len(live), describe(exc))
            with self._cond:
                for h in live:
                    if self._held.get(h.message.receipt) is h:
                        self._held.pop(h.message.receipt)
            return
        except Exception as exc:  # Redis down, OOM, READONLY, BUSY, ...
            retry_in = min(0.5, vt / 4)
            trouble.report(exc, retry_in)
            with self._cond:
                for h in live:
                    h.extended_at = time.monotonic() - vt / 2 + retry_in
            return
        trouble.ok()
        now = time.monotonic()
        with self._cond:
            for h, outcome in zip(live, outcomes, strict=True):
                if outcome.ok:
                    h.extended_at = now
                    continue
                # StaleReceipt / MessageNotFound: the message is no longer ours.
                log.warning(
                    "Stopped extending %s: %s",
                    h.message.receipt,
                    describe(outcome.error) if outcome.error else "refused",
                )
                if self._held.get(h.message.receipt) is h:
                    self._held.pop(h.message.receipt)
        log.debug("Extended %d message(s) by %ss", len(live), vt)
