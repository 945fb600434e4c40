"""Dead-letter queues and failure records: list, requeue, purge.

One code path for the ``rsmq_dlq`` / ``rsmq_failed`` commands and the admin: every
requeue goes through the engine's ``redrive`` / ``requeue_failed`` and sends
``message_requeued``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from . import signals
from .conf import rsmq_settings
from .connections import rsmq_for_queue
from .engine import PeekedMessage

__all__ = [
    "DeadLetterQueueMissing",
    "Requeued",
    "dead_letter_queue_of",
    "dlq_list",
    "dlq_purge",
    "dlq_requeue",
    "failed_list",
    "failed_purge",
    "failed_requeue",
]


class DeadLetterQueueMissing(LookupError):
    pass


@dataclass(frozen=True)
class Requeued:
    moved: int
    missing: list[str]


def dead_letter_queue_of(queue: str) -> str:
    dlq = rsmq_settings().queue(queue).dlq
    if not dlq:
        raise DeadLetterQueueMissing(
            f"Queue {queue!r} has no dead-letter queue (set MAX_RECEIVES or DEAD_LETTER_QUEUE)"
        )
    return dlq


def dlq_list(queue: str, *, offset: int = 0, limit: int = 20) -> list[PeekedMessage]:
    """Messages waiting in ``queue``'s dead-letter queue (nothing is changed)."""
    dlq = dead_letter_queue_of(queue)
    return rsmq_for_queue(dlq).peek(dlq, offset=offset, limit=limit)


def dlq_requeue(
    queue: str,
    *,
    ids: Sequence[str] | None = None,
    limit: int | None = None,
    to: str | None = None,
    reset_rc: bool = False,
    source: str = "command",
    user: Any = None,
) -> Requeued:
    """Move messages from ``queue``'s DLQ back to ``queue`` (or ``to``)."""
    dlq = dead_letter_queue_of(queue)
    rsmq = rsmq_for_queue(dlq)
    result = rsmq.redrive(
        dlq, ids=list(ids) if ids else None, limit=limit, to=to or queue, reset_rc=reset_rc
    )
    done = Requeued(len(result.moved), list(result.missing))
    signals.message_requeued.send(
        sender=queue, ids=ids, moved=done.moved, to=to or queue, source=source, user=user
    )
    return done


def dlq_purge(queue: str) -> int:
    dlq = dead_letter_queue_of(queue)
    return rsmq_for_queue(dlq).purge(dlq)


def failed_list(
    queue: str,
    *,
    offset: int = 0,
    limit: int = 20,
    exc_type: str | None = None,
    search: str | None = None,
) -> Any:
    """A page of ``queue``'s failure records (the engine's ``Page``)."""
    rsmq = rsmq_for_queue(queue)
    return rsmq.failed(queue, offset=offset, limit=limit, exc_type=exc_type, search=search)


def failed_requeue(
    queue: str,
    *,
    ids: Sequence[str] | None = None,
    limit: int | None = None,
    to: str | None = None,
    source: str = "command",
    user: Any = None,
) -> Requeued:
    rsmq = rsmq_for_queue(queue)
    result = rsmq.requeue_failed(queue, ids=list(ids) if ids else None, limit=limit, to=to)
    done = Requeued(len(result.moved), list(result.missing))
    signals.message_requeued.send(
        sender=queue, ids=ids, moved=done.moved, to=to or queue, source=source, user=user
    )
    return done


def failed_purge(queue: str) -> int:
    rsmq = rsmq_for_queue(queue)
    return rsmq.delete_failed(queue)
