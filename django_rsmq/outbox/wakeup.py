"""The relay's wake-up: a commit that wrote outbox rows publishes on Redis.

:func:`wake_on_commit` queues one publish per transaction (however many rows it
wrote) on ``{ns}:outbox:wake:<database>``, on the connection ``RSMQ["OUTBOX"]
["CONNECTION"]``. A publish that fails (Redis down) is logged once and dropped: the
rows are committed, and the relay finds them on its next poll (for ``QUIET`` seconds
after a failure no publish is tried). :class:`Alarm` is the
relay's side: it waits for a publish, at most ``timeout`` seconds.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterable
from typing import Any

import redis
from django.core.signals import setting_changed
from django.db import transaction
from django.dispatch import receiver

from ..conf import SOURCE_SETTINGS, rsmq_settings
from ..connections import get_rsmq
from ..engine.keys import Keys

__all__ = ["Alarm", "wake", "wake_on_commit"]

log = logging.getLogger("django_rsmq.outbox")

SLICE = 0.25  # seconds: how often a waiting relay looks at its stop flag
QUIET = 5.0  # seconds without publishing after a publish failed (Redis down)
_failed_at: float | None = None  # monotonic time of the last failed publish


def wake(database: str) -> None:
    """Publish a wake-up for ``database``'s relays now (errors are logged, not raised).

    After a failed publish none is tried for ``QUIET`` seconds, so a Redis outage (or
    an unreachable host that makes each connect wait for its timeout) costs the
    committing code one failed attempt, not one per transaction; the relays' poll
    finds those rows.
    """
    global _failed_at
    failed_at = _failed_at
    if failed_at is not None and time.monotonic() - failed_at < QUIET:
        return
    cfg = rsmq_settings()
    try:
        rsmq = get_rsmq(cfg.outbox.connection)
        rsmq.client.publish(Keys(cfg.namespace).outbox_wake(database), database)
    except Exception as exc:
        if failed_at is None:
            log.warning(
                "Outbox wake-up not published (%s: %s); the relay finds the rows on its next poll",
                type(exc).__name__,
                exc,
            )
        _failed_at = time.monotonic()
    else:
        _failed_at = None


@receiver(setting_changed)
def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    global _failed_at
    if setting in SOURCE_SETTINGS:
        _failed_at = None  # another Redis, perhaps: publish again at once


class _Wake:
    """The commit hook of one database alias (one per transaction: see below)."""

    def __init__(self, database: str) -> None:
        self.database = database

    def __call__(self) -> None:
        wake(self.database)


def wake_on_commit(database: str) -> None:
    """Wake the relay when the current transaction on ``database`` commits (at once in
    autocommit). Queued once per transaction: a hook already queued is not repeated."""
    conn = transaction.get_connection(database)
    if conn.in_atomic_block:
        for entry in conn.run_on_commit:
            if isinstance(entry[1], _Wake):
                return
    transaction.on_commit(_Wake(database), using=database)


class Alarm:
    """Subscribes to the wake-up channels of ``databases``; :meth:`wait` returns
    ``True`` on a publish, ``False`` after ``timeout`` seconds or when ``halt`` is set
    (with Redis down, the subscription is made again on the next call)."""

    def __init__(
        self,
        client: redis.Redis,
        namespace: str,
        databases: Iterable[str],
        halt: threading.Event,
    ) -> None:
        self.client = client
        self.halt = halt
        self.channels = [Keys(namespace).outbox_wake(d) for d in databases]
        self._pubsub: Any = None

    def wait(self, timeout: float) -> bool:
        try:
            if self._pubsub is None:
                self._pubsub = self.client.pubsub(ignore_subscribe_messages=True)
                self._pubsub.subscribe(*self.channels)
            deadline = time.monotonic() + timeout
            got = False
            while not got and not self.halt.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                # in slices, so a stop is seen within a quarter second
                got = self._pubsub.get_message(timeout=min(SLICE, left)) is not None
            while got and self._pubsub.get_message(timeout=0) is not None:
                pass  # several commits woke us: one round serves them all
            return got
        except (redis.RedisError, OSError):
            self.close()
            self.halt.wait(timeout)  # Redis is down: the poll interval still holds
            return False

    def close(self) -> None:
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                self._pubsub.close()
            self._pubsub = None
