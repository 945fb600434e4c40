"""Messages of a queue, by queue name: browse (peek, never receive), look at one,
delete it, make it visible now.

The admin's message browser and message pages use these; moving a message to
another queue is a redrive (:func:`django_rsmq.operations.redrive.move`).
"""

from __future__ import annotations

from ..connections import rsmq_for_queue
from ..engine import DeadLetterInfo, Page, PeekedMessage
from ..engine.protocol import PEEK_MAX

__all__ = ["SEARCH_SCAN_MAX", "count", "dead_letter_info", "delete", "get", "make_visible", "page"]

#: A search looks at this many messages at most (from the head of the queue).
SEARCH_SCAN_MAX = 10_000


def _matches(m: PeekedMessage, needle: str) -> bool:
    raw = m.raw if isinstance(m.raw, str) else m.raw.decode("utf-8", "replace")
    return needle in m.id.lower() or needle in raw.lower()


def count(queue: str) -> int:
    """How many messages ``queue`` holds (visible, in flight and delayed)."""
    return rsmq_for_queue(queue).get_queue_attributes(queue).msgs


def page(
    queue: str, *, offset: int = 0, limit: int = 50, search: str | None = None
) -> Page[PeekedMessage]:
    """Messages in visibility order without changing anything (never receives).

    With ``search``, only messages whose id or raw body contains it (case-insensitive),
    among the first :data:`SEARCH_SCAN_MAX`. Raises ``QueueNotFound``.
    """
    rsmq = rsmq_for_queue(queue)
    if not search:
        total = rsmq.get_queue_attributes(queue).msgs
        items = rsmq.peek(queue, offset=offset, limit=limit) if offset < total else []
        return Page(items, total)
    needle = search.lower()
    found: list[PeekedMessage] = []
    for start in range(0, SEARCH_SCAN_MAX, PEEK_MAX):
        batch = rsmq.peek(queue, offset=start, limit=PEEK_MAX)
        found += [m for m in batch if _matches(m, needle)]
        if len(batch) < PEEK_MAX:
            break
    return Page(found[offset : offset + limit], len(found))


def get(queue: str, message_id: str) -> PeekedMessage:
    """One message, unchanged. Raises ``QueueNotFound`` / ``MessageNotFound``."""
    return rsmq_for_queue(queue).peek_message(queue, message_id)


def dead_letter_info(queue: str, message_id: str) -> DeadLetterInfo | None:
    """Where a message of dead-letter queue ``queue`` came from and why (or ``None``)."""
    return rsmq_for_queue(queue).dead_letter_info(queue, message_id)


def delete(queue: str, message_ids: list[str]) -> tuple[int, list[str]]:
    """Delete messages by id: (how many were deleted, ids that were already gone)."""
    rsmq = rsmq_for_queue(queue)
    gone = [mid for mid in message_ids if not rsmq.delete(queue, mid)]
    return len(message_ids) - len(gone), gone


def make_visible(queue: str, message_id: str) -> bool:
    """Make a message receivable now; ``False`` if it is gone."""
    return rsmq_for_queue(queue).change_visibility(queue, message_id, 0)
