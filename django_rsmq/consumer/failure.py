"""What happens to a message whose handler failed.

The engine decides, atomically: ``RSMQ.fail`` stores a failure record, then makes the
message receivable again after the queue's retry policy delay or, once it was received
``max_receives`` times, moves it to the dead-letter queue.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ..engine import RSMQ, Message
from ..engine.errors import MessageNotFound, StaleReceipt

__all__ = ["FailOutcome", "fail_message"]

log = logging.getLogger("django_rsmq.consumer")


@dataclass(frozen=True, slots=True)
class FailOutcome:
    retry_in: float | None  # seconds until the next delivery (None when dead-lettered)
    dead_lettered: bool
    record_id: str | None = None
    lost: bool = False  # the receipt was stale: someone else owns the message now

    @property
    def will_retry(self) -> bool:
        return not self.dead_lettered and not self.lost


def fail_message(rsmq: RSMQ, message: Message, exc: BaseException, tb: str) -> FailOutcome:
    """Record the failure of this delivery; the engine retries or dead-letters it."""
    try:
        result = rsmq.fail(message.receipt, exc, traceback=tb)
    except (StaleReceipt, MessageNotFound) as lost:
        log.warning("Could not record failure of %s: %s", message.receipt, lost)
        return FailOutcome(retry_in=None, dead_lettered=False, lost=True)
    return FailOutcome(result.retry_in, result.dead_lettered, result.record_id or None)
