"""The consumer's periodic-message thread: every ``rsmq_consume`` runs the
``RSMQ["SCHEDULE"]`` (unless ``--no-schedule``); the ledger's claims make each tick one
message however many consumers run (:mod:`django_rsmq.periodic.ticker`)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from ..periodic import Ticker
from .trouble import Trouble

__all__ = ["Scheduler"]

#: seconds between passes when a pass failed (Redis down), and at most between passes
RETRY_IN, MAX_WAIT = 1.0, 60.0


class Scheduler(threading.Thread):
    """Wakes at each entry's next tick (Redis' clock), sends what is due, sleeps again.

    A pass that fails (Redis unreachable, a queue that cannot be created) is logged once
    per kind and tried again after a second: a tick is sent as long as it is due within
    its entry's ``GRACE``."""

    def __init__(self, owner: str) -> None:
        super().__init__(name="rsmq-schedule", daemon=True)
        self.ticker = Ticker(owner)
        self._halt = threading.Event()
        self._trouble = Trouble("Periodic messages")
        self.on_exit: Callable[[], None] | None = None

    def run(self) -> None:
        try:
            while not self._halt.is_set():
                try:
                    wait = self.ticker.run_due()
                except Exception as exc:
                    self._trouble.report(exc, RETRY_IN)
                    wait = RETRY_IN
                else:
                    self._trouble.ok()
                # 2 ms past the tick: the pass then finds it due by Redis' clock.
                self._halt.wait(MAX_WAIT if wait is None else min(wait + 0.002, MAX_WAIT))
        finally:
            if self.on_exit is not None:
                self.on_exit()

    def stop(self) -> None:
        self._halt.set()
