"""Batch operations of both front ends: one round trip each, a result per entry.

Every batch takes at most :data:`~django_rsmq.engine.protocol.BATCH_MAX` (1000)
entries and returns one :class:`~django_rsmq.engine.protocol.Outcome` per entry, in
input order: an invalid entry gets its error and the others still happen.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .frontend import FrontEnd
from .longpoll import Run
from .message import Message, Receipt
from .operation import Steps, Work, operation
from .protocol import Entry, Outcome
from .serializers import Serializer

__all__ = ["BatchOps"]


class BatchOps(FrontEnd[Any]):
    @operation
    def send_many(
        self,
        qname: str,
        entries: Iterable[Any | Entry],
        *,
        delay: float | None = None,
        serializer: str | Serializer | None = None,
        realtime: bool | None = None,
    ) -> Work[list[Outcome[str]]]:
        """Send bodies (or :class:`Entry` with a per-message delay) in one script call.

        Per entry the message id, or the error (bad delay, unserializable body, too
        long). ``delay`` is the default for entries without their own. With realtime
        on, one PUBLISH per batch carries the queue's new message count.
        """
        return self.protocol.send_many(
            qname, entries, self._serializer(serializer), delay=delay, realtime=realtime
        )

    @operation
    def pop_many(
        self, qname: str, count: int, *, serializer: str | Serializer | None = None
    ) -> Work[list[Message]]:
        """Receive and delete up to ``count`` visible messages (at most once)."""
        return self.protocol.pop(qname, self._serializer(serializer), count=count)

    @operation
    def delete_many(self, qname: str, message_ids: Iterable[str]) -> Work[list[Outcome[bool]]]:
        """Delete by bare ids: per id ``True`` if it was there, ``False`` if not."""
        return self.protocol.delete_many(qname, message_ids)

    @operation
    def ack_many(self, receipts: Iterable[str | Receipt | Message]) -> Steps[list[Outcome[None]]]:
        """Ack deliveries of any queues in one round trip (one script call per queue).

        Per receipt ``None``, or :class:`StaleReceipt` / :class:`MessageNotFound` /
        :class:`InvalidName` as its outcome's error; results are in input order.
        """
        batch = self._ack_batch(receipts)
        return batch.merge((yield Run(batch.calls)))

    @operation
    def change_visibility_many(
        self, qname: str, message_ids: Iterable[str], vt: float
    ) -> Work[list[Outcome[bool]]]:
        """Make messages receivable ``vt`` seconds from now: per id ``True`` if it exists."""
        return self.protocol.change_visibility_many(qname, message_ids, vt)

    @operation
    def change_visibility_by_receipt_many(
        self, receipts: Iterable[str | Receipt | Message], vt: float
    ) -> Steps[list[Outcome[None]]]:
        """Like :meth:`change_visibility_many`, fenced per receipt (see :meth:`ack_many`)."""
        batch = self._visibility_batch(receipts, vt)
        return batch.merge((yield Run(batch.calls)))
