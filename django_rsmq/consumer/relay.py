"""The outbox relay threads of ``rsmq_consume`` (``--relay`` / ``--no-relay``).

By default (``RSMQ["OUTBOX"]["RELAY"]`` ``None``) a consumer relays the outbox when a
queue has ``OUTBOX: True``: one thread (``rsmq-relay-<database>``) per database of
``RSMQ["OUTBOX"]["DATABASES"]``, each running :meth:`Relay.run`, started before the
consumer receives and stopped after it stopped. Several consumers relay safely at
once (docs/outbox.md).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ..conf import rsmq_settings

__all__ = ["RelayThread", "relays", "wanted"]

log = logging.getLogger("django_rsmq.outbox")


class RelayThread(threading.Thread):
    def __init__(self, database: str) -> None:
        super().__init__(name=f"rsmq-relay-{database}", daemon=True)
        from ..outbox.relay import Relay

        self.relay = Relay(database)

    def run(self) -> None:
        try:
            self.relay.run()
        except BaseException:  # Relay.run survives its rounds' errors: this is a bug
            log.exception("The outbox relay thread %s died", self.name)
            raise

    def stop(self, timeout: float = 10.0) -> None:
        self.relay.stop()
        self.join(timeout)


def wanted(option: bool | None) -> bool:
    """``--relay`` (True) / ``--no-relay`` (False), else the settings' choice."""
    return rsmq_settings().relay_wanted if option is None else option


@contextmanager
def relays(option: bool | None, write: Callable[[str], None]) -> Iterator[list[RelayThread]]:
    """Run the relay threads (if :func:`wanted`) for the duration of the block."""
    threads: list[RelayThread] = []
    if wanted(option):
        for database in rsmq_settings().outbox.databases:
            threads.append(RelayThread(database))
        for t in threads:
            t.start()
        names = ", ".join(t.relay.database for t in threads)
        write(f"outbox relay: on ({names})")
    try:
        yield threads
    finally:
        for t in threads:
            t.stop()
