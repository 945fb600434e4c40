"""What happens to a message whose handler failed, or that was never started.

The engine decides, atomically: ``RSMQ.fail`` stores a failure record, then makes the
message receivable again after the queue's retry policy delay or, once it was received
``max_receives`` times, moves it to the dead-letter queue.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ..engine import RSMQ, Message
from ..engine.errors import MessageNotFound, StaleReceipt
from ..engine.protocol.reliability import FailThen
from .trouble import describe, expected

__all__ = ["FailOutcome", "fail_message", "release_message"]

log = logging.getLogger("django_rsmq.consumer")


@dataclass(frozen=True, slots=True)
class FailOutcome:
    retry_in: float | None  # seconds until the next delivery (None when dead-lettered)
    dead_lettered: bool
    record_id: str | None = None
    lost: bool = False  # the receipt was stale: someone else owns the message now
    discarded: bool = False  # dropped (a Discard, or a DeadLetter without a DLQ)

    @property
    def will_retry(self) -> bool:
        return not self.dead_lettered and not self.lost and not self.discarded


def fail_message(
    rsmq: RSMQ,
    message: Message,
    exc: BaseException,
    tb: str,
    *,
    delay: float | None = None,
    then: FailThen = "retry",
) -> FailOutcome:
    """Record the failure of this delivery; the engine retries (after ``delay``, else
    by the queue's policy), dead-letters or (``then``) drops it."""
    try:
        result = rsmq.fail(message.receipt, exc, traceback=tb, delay=delay, then=then)
    except (StaleReceipt, MessageNotFound) as lost:
        log.warning("Could not record failure of %s: %s", message.receipt, lost)
        return FailOutcome(retry_in=None, dead_lettered=False, lost=True)
    return FailOutcome(
        result.retry_in,
        result.dead_lettered,
        result.record_id or None,
        discarded=result.discarded,
    )


def release_message(rsmq: RSMQ, message: Message) -> None:
    """Make a received message that no handler started visible again at once (a warm
    stop's prefetched messages); if Redis refuses, it comes back after its vt."""
    try:
        rsmq.change_visibility_by_receipt(message.receipt, 0)
    except (StaleReceipt, MessageNotFound) as exc:
        log.warning("Could not return %s to its queue: %s", message.receipt, describe(exc))
    except Exception as exc:  # Redis down, OOM, READONLY, ...: back after its vt
        log.warning(
            "Could not return %s to its queue (%s): it comes back after its visibility timeout",
            message.receipt,
            describe(exc),
            exc_info=None if expected(exc) else exc,
        )
