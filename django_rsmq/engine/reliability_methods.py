"""The reliability methods of both front ends (docs/reliability.md), each defined once
in :class:`ReliabilityOps`: :class:`ReliabilityMethods` runs them with blocking calls
(mixed into :class:`~django_rsmq.engine.RSMQ`), :class:`AsyncReliabilityMethods` as
coroutines (mixed into the asyncio front end). They only build calls with the shared
protocol core; multi-call operations (redrive, purge_expired, sweep) are
:data:`~django_rsmq.engine.protocol.CallPlan` generators the front end drives
(engine/operation.py).
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from typing import TYPE_CHECKING

from .message import Message, Receipt
from .operation import AsyncFront, SyncFront, Then, Work, async_front, operation, sync_front
from .protocol import Protocol
from .protocol.reliability import FailThen
from .reliability import DeadLetterInfo, FailedRecord, FailResult, Page, RedriveResult
from .serializers import Serializer

__all__ = ["AsyncReliabilityMethods", "ReliabilityMethods", "ReliabilityOps"]


class ReliabilityOps:
    """Nack, fail, failed records, dead letters, redrive, retention purge, sweep."""

    if TYPE_CHECKING:
        protocol: Protocol

        def _serializer(self, serializer: str | Serializer | None) -> Serializer: ...

    @operation
    def nack(self, receipt: str | Receipt | Message, delay: float | None = None) -> Work[float]:
        """Give a received message back: receivable again after ``delay`` seconds (the
        queue's retry policy picks it from rc when ``None``). Returns the delay applied.
        Fenced like :meth:`ack` (:class:`StaleReceipt`)."""
        return self.protocol.nack(receipt, delay)

    @operation
    def fail(
        self,
        receipt: str | Receipt | Message,
        error: BaseException | str,
        *,
        traceback: str | None = None,
        delay: float | None = None,
        then: FailThen = "retry",
    ) -> Work[FailResult]:
        """Record a failure of this delivery, then retry it by the queue's policy (or
        after ``delay`` seconds) or, once it was received ``max_receives`` times,
        dead-letter it — atomically. ``then="dead_letter"`` dead-letters it whatever
        its receive count (dropped when the queue has no DLQ), ``then="discard"``
        drops it (the failure record says ``discarded``)."""
        return self.protocol.fail(receipt, error, traceback=traceback, delay=delay, then=then)

    @operation
    def failed(
        self,
        qname: str,
        *,
        offset: int = 0,
        limit: int = 20,
        exc_type: str | None = None,
        search: str | None = None,
        message_id: str | None = None,
        since: int | None = None,
        until: int | None = None,
        serializer: str | Serializer | None = None,
    ) -> Work[Page[FailedRecord]]:
        """Failure records of a queue, newest first, filtered by exception type, text,
        message id and time range (``failed_at`` in ``[since, until]``, epoch ms)."""
        call = self.protocol.failed(
            qname,
            self._serializer(serializer),
            offset=offset,
            limit=limit,
            exc_type=exc_type,
            search=search,
            message_id=message_id,
            since=since,
            until=until,
        )
        return call

    @operation
    def failed_groups(
        self,
        qname: str,
        *,
        search: str | None = None,
        since: int | None = None,
        until: int | None = None,
    ) -> Work[dict[str, int]]:
        """The number of failure records per exception type, most frequent first."""
        return self.protocol.failed_groups(qname, search=search, since=since, until=until)

    @operation
    def record_states(self, qname: str, message_ids: Iterable[str]) -> Work[list[tuple[str, str]]]:
        """Where the messages of failure records are now: ``(state, detail)`` per id
        (engine/triage.py)."""
        return self.protocol.record_states(qname, message_ids)

    @operation
    def failed_record(
        self, qname: str, record_id: str, *, serializer: str | Serializer | None = None
    ) -> Work[FailedRecord]:
        """One failure record. Raises :class:`MessageNotFound` if it is gone."""
        call = self.protocol.failed(qname, self._serializer(serializer), record_id=record_id)
        return Then(call, _first_record)

    @operation
    def delete_failed(self, qname: str, ids: Iterable[str] | None = None) -> Work[int]:
        """Delete failure records (all when ``ids`` is None); returns how many."""
        return self.protocol.delete_failed(qname, ids)

    @operation
    def dead_letter_info(self, dlq: str, message_id: str) -> Work[DeadLetterInfo | None]:
        """Source queue, rc, receive times, reason and last error of a DLQ message."""
        return Then(self.protocol.dead_letter_info(dlq, [message_id]), operator.itemgetter(0))

    @operation
    def dead_letter_infos(
        self, dlq: str, message_ids: Iterable[str]
    ) -> Work[list[DeadLetterInfo | None]]:
        """:meth:`dead_letter_info` of many DLQ messages with one call (a page's rows)."""
        return self.protocol.dead_letter_info(dlq, message_ids)

    @operation
    def drain(self, qname: str, count: int = 500) -> Work[tuple[int, int]]:
        """Remove the ``count`` oldest messages of ``qname`` (one bounded, atomic step
        of a purge in chunks): ``(removed, left)``."""
        return self.protocol.drain(qname, count)

    @operation
    def redrive(
        self,
        dlq: str,
        *,
        ids: Iterable[str] | None = None,
        limit: int | None = None,
        to: str | None = None,
        default_to: str | None = None,
        reset_rc: bool = True,
    ) -> Work[RedriveResult]:
        """Move DLQ messages (all, ``ids``, or the oldest ``limit``) back to the queue
        each came from, or all to ``to``; a message with no record of where it came from
        (put there by another client) goes to ``default_to``, or stays and is reported
        in ``missing``. Each moves exactly once even under racing redrives. They start
        with a fresh receive count (``reset_rc=False`` restores it, so with an unchanged
        ``max_receives`` the next receive dead-letters them again)."""
        plan = self.protocol.redrive(
            dlq, ids=ids, limit=limit, to=to, default_to=default_to, reset_rc=reset_rc
        )
        return plan

    @operation
    def requeue_failed(
        self,
        qname: str,
        *,
        ids: Iterable[str] | None = None,
        limit: int | None = None,
        to: str | None = None,
        guard: bool = False,
    ) -> Work[RedriveResult]:
        """Send failure records' bodies as new messages (to their queue or ``to``) and
        delete the records (same code path as :meth:`redrive`). With ``guard``, a record
        whose message is still queued, in the DLQ, requeued already or acked after
        failing is left and reported in ``missing`` (engine/triage.py)."""
        return self.protocol.requeue_failed(qname, ids=ids, limit=limit, to=to, guard=guard)

    @operation
    def purge_expired(self, qname: str) -> Work[int]:
        """Drop (or dead-letter) every message older than the queue's retention."""
        return self.protocol.purge_expired(qname)

    @operation
    def sweep(self, qname: str) -> Work[None]:
        """Drop side data left by plain RSMQ clients' deletes/pops (a full pass)."""
        return self.protocol.sweep(qname)


def _first_record(page: Page[FailedRecord]) -> FailedRecord:
    return page.items[0]


@sync_front
class ReliabilityMethods(SyncFront, ReliabilityOps):
    """The reliability methods for a front end with a blocking ``_run``."""


@async_front
class AsyncReliabilityMethods(AsyncFront, ReliabilityOps):
    """The reliability methods for a front end whose ``_run`` is a coroutine."""
