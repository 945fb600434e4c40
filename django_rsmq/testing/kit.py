"""Helpers for your own tests of code that sends and handles messages.

- ``eager()``: a context manager / decorator (``override_settings`` underneath) that
  turns on ``RSMQ["EAGER"]``: ``send()`` runs the queue's handler inline instead of
  going through Redis, and the handler's exception propagates.
- ``drain(queue)``: handle every message visible in ``queue`` right now, in the calling
  thread, exactly as the consumer would (signals, ack, failure/retry/DLQ), and report
  what happened.
- ``drain_outbox(using=None)``: relay every committed row of the transactional outbox
  (of ``using``, else every database of ``RSMQ["OUTBOX"]["DATABASES"]``) to Redis now,
  in the calling thread; returns how many. ``drain(queue)`` then handles them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.test.utils import override_settings

__all__ = ["DrainResult", "drain", "drain_outbox", "eager"]


@dataclass
class DrainResult:
    processed: int = 0
    failed: int = 0
    dead_lettered: int = 0
    snoozed: int = 0  # the handler raised Snooze (django_rsmq/outcomes.py)
    discarded: int = 0  # ... Discard (or DeadLetter on a queue without a DLQ)
    errors: list[BaseException] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.processed + self.failed + self.dead_lettered + self.snoozed + self.discarded


def eager() -> override_settings:
    """``with eager(): ...`` or ``@eager()``: handlers run inline at ``send()``."""
    current: dict[str, Any] = dict(getattr(settings, "RSMQ", None) or {})
    return override_settings(RSMQ={**current, "EAGER": True})


def drain(queue: str, *, max_messages: int = 10_000, vt: float | None = None) -> DrainResult:
    """Handle the messages of ``queue`` until none is visible (or ``max_messages``).

    Messages whose handler fails are retried by the queue's policy; a retry that is
    due at once (no ``RETRY`` delay) is handled again within the same drain, until
    ``MAX_RECEIVES`` dead-letters it or ``max_messages`` is reached.
    """
    from ..connections import rsmq_for_queue
    from ..consumer.hooks import SignalHooks
    from ..consumer.processing import MessageProcessor
    from ..handlers import registry

    h = registry.get(queue)
    if h is None:
        raise LookupError(f"No @handler registered for queue {queue!r}")
    rsmq = rsmq_for_queue(queue)
    processor = MessageProcessor([SignalHooks()])
    result = DrainResult()
    while result.total < max_messages:
        message = rsmq.receive(queue, vt=vt if vt is not None else h.visibility_timeout)
        if message is None:
            break
        outcome = processor.handle(message, h, rsmq)
        if outcome.status == "processed":
            result.processed += 1
        elif outcome.status == "dead_lettered":
            result.dead_lettered += 1
        elif outcome.status == "snoozed":
            result.snoozed += 1
        elif outcome.status == "discarded":
            result.discarded += 1
        else:
            result.failed += 1
        if outcome.exception is not None:
            result.errors.append(outcome.exception)
    return result


def drain_outbox(using: str | None = None) -> int:
    """Relay the committed outbox rows of ``using`` (default: every database of
    ``RSMQ["OUTBOX"]["DATABASES"]``) to Redis now; the number of rows relayed.

    It runs on the calling thread's connection, so inside a ``TestCase`` (whose
    transaction never commits, so no relay would ever see the rows) it relays the rows
    the test wrote; their delete is rolled back with the test.
    """
    from ..conf import rsmq_settings
    from ..outbox.relay import Relay

    databases = [using] if using else list(rsmq_settings().outbox.databases)
    return sum(Relay(d).drain() for d in databases)
