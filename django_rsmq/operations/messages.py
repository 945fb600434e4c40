"""Messages of a queue, by queue name: browse (peek, never receive), search within a
budget, look at one, delete it, make it visible now.

The admin's message browser and message pages use these; moving a message to
another queue is a redrive (:func:`django_rsmq.operations.redrive.move`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..conf import rsmq_settings
from ..connections import rsmq_for_queue
from ..engine import DeadLetterInfo, Page, PeekedMessage
from ..engine.protocol import PEEK_MAX

__all__ = [
    "SEARCH_CHUNK_BYTES",
    "Search",
    "count",
    "dead_letter_info",
    "delete",
    "get",
    "make_visible",
    "page",
    "search",
]

#: About how many body bytes one peek of a search reads: one Redis call copies them, so
#: this bounds how long each call blocks Redis (a few ms; docs/benchmarks.md). The chunk
#: length adapts to the largest body seen so far (it starts small: sizes are unknown).
SEARCH_CHUNK_BYTES = 1024 * 1024
_FIRST_CHUNK = 4


def _size(m: PeekedMessage) -> int:
    return len(m.raw) if isinstance(m.raw, bytes) else len(m.raw.encode("utf-8", "replace"))


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
    Raises ``QueueNotFound``.

    ``search`` (kept for the DLQ page) pages over the matches of one bounded
    :func:`search` from the head; prefer :func:`search`, which says how far it looked.
    """
    if search:
        found = _bounded_search(queue, search, limit=offset + limit)
        return Page(found.matches[offset : offset + limit], len(found.matches))
    rsmq = rsmq_for_queue(queue)
    total = rsmq.get_queue_attributes(queue).msgs
    items = rsmq.peek(queue, offset=offset, limit=limit) if offset < total else []
    return Page(items, total)


@dataclass(frozen=True)
class Search:
    """One bounded search request: the matches among the messages at positions
    ``start`` to ``end - 1`` (visibility order) of a queue that held ``total``."""

    matches: list[PeekedMessage]
    start: int
    end: int  # the position after the last message looked at (where "continue" starts)
    total: int  # messages in the queue when the search began
    complete: bool  # looked through to the end of the queue
    stopped_by: str  # "end" | "page" (enough matches) | "bytes" | "time"
    bytes_read: int
    calls: int  # Redis calls (peeks) it made

    @property
    def scanned(self) -> int:
        return self.end - self.start

    @property
    def next_start(self) -> int | None:
        """Where a "continue" request starts, or ``None`` after the end of the queue."""
        return None if self.complete else self.end


def search(
    queue: str,
    text: str,
    *,
    start: int = 0,
    limit: int = 50,
    budget_bytes: int | None = None,
    budget_seconds: float | None = None,
    chunk_bytes: int = SEARCH_CHUNK_BYTES,
) -> Search:
    """Messages whose id or raw body contains ``text`` (case-insensitive), from
    position ``start``, in chunks of about ``chunk_bytes`` each (one peek per chunk).

    Stops at the end of the queue, after ``limit`` matches, or when the byte or time
    budget (default: ``RSMQ["ADMIN"]["SEARCH_BUDGET_BYTES"]`` / ``["SEARCH_BUDGET_SECONDS"]``)
    is spent; the result says how far it looked, so a caller can continue from
    :attr:`Search.next_start`. Positions shift when the queue changes between requests
    (a received message moves back), so a continued search may see a message twice or
    miss one that moved in front of the cursor. Raises ``QueueNotFound``.
    """
    cfg = rsmq_settings().admin
    budget_bytes = cfg.search_budget_bytes if budget_bytes is None else budget_bytes
    budget_seconds = cfg.search_budget_seconds if budget_seconds is None else budget_seconds
    rsmq = rsmq_for_queue(queue)
    total = rsmq.get_queue_attributes(queue).msgs
    needle = text.lower()
    found: list[PeekedMessage] = []
    pos, read, calls, n, largest = start, 0, 0, _FIRST_CHUNK, 1
    deadline = time.monotonic() + budget_seconds
    stopped_by = "end"
    while True:
        batch = rsmq.peek(queue, offset=pos, limit=n)
        calls += 1
        for m in batch:
            pos += 1
            size = _size(m)
            read += size
            largest = max(largest, size)
            if _matches(m, needle):
                found.append(m)
                if len(found) >= limit:
                    break
        if len(found) >= limit:
            stopped_by = "page"
            break
        if len(batch) < n:
            break
        if read >= budget_bytes:
            stopped_by = "bytes"
            break
        if time.monotonic() >= deadline:
            stopped_by = "time"
            break
        n = max(1, min(PEEK_MAX, min(chunk_bytes, budget_bytes - read) // largest))
    complete = stopped_by == "end" or (stopped_by == "page" and pos >= total)
    return Search(found, start, pos, total, complete, stopped_by, read, calls)


_bounded_search = search  # page()'s ``search`` argument shadows the function


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
