"""What happens to a message whose handler failed: record, retry later, or dead-letter.

The engine owns this (``RSMQ.fail``: failure record, retry delay from the queue's
retry policy, atomic move to the DLQ past ``max_receives``). :func:`fail_message`
calls it; until the engine of this checkout has ``fail`` it falls back to the same
decisions made here with ``change_visibility_by_receipt`` / ``send`` + ``ack``
(without failure records, and without atomicity of the DLQ move).
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from typing import Any

from ..conf import QueueSettings
from ..engine import RSMQ, Message
from ..engine.errors import MessageNotFound, StaleReceipt

__all__ = ["FailOutcome", "describe_exception", "fail_message", "retry_delay"]

log = logging.getLogger("django_rsmq.consumer")


@dataclass(frozen=True, slots=True)
class FailOutcome:
    retry_in: float | None  # seconds until the next delivery; None = after its vt / never
    dead_lettered: bool
    record_id: str | None = None
    lost: bool = False  # the receipt was stale: someone else owns the message now

    @property
    def will_retry(self) -> bool:
        return not self.dead_lettered and not self.lost


def describe_exception(exc: BaseException) -> str:
    cls = type(exc)
    return f"{cls.__module__}.{cls.__qualname__}: {exc}"


def retry_delay(retry: Any, rc: int) -> float | None:
    """Seconds before delivery ``rc + 1`` under a ``RETRY`` setting, ``None`` for "after
    the visibility timeout" (the default, like SQS)."""
    if retry is None:
        return None
    if isinstance(retry, list | tuple):
        if not retry:
            return None
        return float(retry[min(rc, len(retry)) - 1])
    if isinstance(retry, dict):
        base = float(retry.get("BASE", 1))
        factor = float(retry.get("FACTOR", 2))
        cap = float(retry.get("MAX", 3600))
        delay = min(cap, base * factor ** max(0, rc - 1))
        if retry.get("JITTER", False):
            delay = random.uniform(0, delay)
        return delay
    return float(retry)


def fail_message(
    rsmq: RSMQ, message: Message, exc: BaseException, tb: str, queue: QueueSettings
) -> FailOutcome:
    """Record the failure of this delivery and decide retry or dead-letter."""
    engine_fail = getattr(rsmq, "fail", None)
    try:
        if engine_fail is not None:
            result = engine_fail(message.receipt, exc, traceback=tb)
            return FailOutcome(
                retry_in=result.retry_in,
                dead_lettered=bool(result.dead_lettered),
                record_id=result.record_id,
            )
        return _fallback(rsmq, message, queue)
    except (StaleReceipt, MessageNotFound) as lost:
        log.warning("Could not record failure of %s: %s", message.receipt, lost)
        return FailOutcome(retry_in=None, dead_lettered=False, lost=True)


def _fallback(rsmq: RSMQ, message: Message, queue: QueueSettings) -> FailOutcome:
    max_receives = queue.max_receives
    if max_receives and message.rc >= int(max_receives):
        dlq = queue.dlq
        if dlq and isinstance(message.raw, str):
            rsmq.send(str(dlq), message.raw, serializer="text")
        rsmq.ack(message.receipt)
        return FailOutcome(retry_in=None, dead_lettered=bool(dlq))
    delay = retry_delay(queue.retry, message.rc)
    if delay is not None:
        rsmq.change_visibility_by_receipt(message.receipt, delay)
    return FailOutcome(retry_in=delay, dead_lettered=False)
