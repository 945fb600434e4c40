"""The reliability methods of the front ends (docs/reliability.md), as mixins:
:class:`ReliabilityMethods` for :class:`~django_rsmq.engine.RSMQ` and
:class:`AsyncReliabilityMethods` (each a coroutine, same semantics) for the asyncio
front end. They only build calls with the shared protocol core and run them with the
front end's ``_run``; multi-call operations (redrive, purge_expired, sweep) are
:data:`~django_rsmq.engine.protocol.CallPlan` generators driven by ``_run_plan``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable
from typing import TYPE_CHECKING, TypeVar

from .message import Message, Receipt
from .protocol import Call, CallPlan, Protocol
from .reliability import DeadLetterInfo, FailedRecord, FailResult, Page, RedriveResult
from .serializers import Serializer

__all__ = ["AsyncReliabilityMethods", "ReliabilityMethods"]

T = TypeVar("T")


class ReliabilityMethods:
    """Nack, fail, failed records, dead letters, redrive, retention purge, sweep."""

    if TYPE_CHECKING:
        protocol: Protocol

        def _run(self, call: Call[T]) -> T: ...
        def _serializer(self, serializer: str | Serializer | None) -> Serializer: ...

    def _run_plan(self, plan: CallPlan[T]) -> T:
        """Run a multi-call operation: each yielded call's result is sent back in."""
        try:
            call = next(plan)
            while True:
                call = plan.send(self._run(call))
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]

    def nack(self, receipt: str | Receipt | Message, delay: float | None = None) -> float:
        """Give a received message back: receivable again after ``delay`` seconds (the
        queue's retry policy picks it from rc when ``None``). Returns the delay applied.
        Fenced like :meth:`ack` (:class:`StaleReceipt`)."""
        return self._run(self.protocol.nack(receipt, delay))

    def fail(
        self,
        receipt: str | Receipt | Message,
        error: BaseException | str,
        *,
        traceback: str | None = None,
    ) -> FailResult:
        """Record a failure of this delivery, then retry it by the queue's policy or,
        once it was received ``max_receives`` times, dead-letter it — atomically."""
        return self._run(self.protocol.fail(receipt, error, traceback=traceback))

    def failed(
        self,
        qname: str,
        *,
        offset: int = 0,
        limit: int = 20,
        exc_type: str | None = None,
        search: str | None = None,
        serializer: str | Serializer | None = None,
    ) -> Page[FailedRecord]:
        """Failure records of a queue, newest first, filtered by exception type and
        text."""
        call = self.protocol.failed(
            qname,
            self._serializer(serializer),
            offset=offset,
            limit=limit,
            exc_type=exc_type,
            search=search,
        )
        return self._run(call)

    def failed_record(
        self, qname: str, record_id: str, *, serializer: str | Serializer | None = None
    ) -> FailedRecord:
        """One failure record. Raises :class:`MessageNotFound` if it is gone."""
        call = self.protocol.failed(qname, self._serializer(serializer), record_id=record_id)
        return self._run(call).items[0]

    def delete_failed(self, qname: str, ids: Iterable[str] | None = None) -> int:
        """Delete failure records (all when ``ids`` is None); returns how many."""
        return self._run(self.protocol.delete_failed(qname, ids))

    def dead_letter_info(self, dlq: str, message_id: str) -> DeadLetterInfo | None:
        """Source queue, rc, receive times, reason and last error of a DLQ message."""
        return self._run(self.protocol.dead_letter_info(dlq, [message_id]))[0]

    def redrive(
        self,
        dlq: str,
        *,
        ids: Iterable[str] | None = None,
        limit: int | None = None,
        to: str | None = None,
        default_to: str | None = None,
        reset_rc: bool = True,
    ) -> RedriveResult:
        """Move DLQ messages (all, ``ids``, or the oldest ``limit``) back to the queue
        each came from, or all to ``to``; a message with no record of where it came from
        (put there by another client) goes to ``default_to``, or stays and is reported
        in ``missing``. Each moves exactly once even under racing redrives. They start
        with a fresh receive count (``reset_rc=False`` restores it, so with an unchanged
        ``max_receives`` the next receive dead-letters them again)."""
        plan = self.protocol.redrive(
            dlq, ids=ids, limit=limit, to=to, default_to=default_to, reset_rc=reset_rc
        )
        return self._run_plan(plan)

    def requeue_failed(
        self,
        qname: str,
        *,
        ids: Iterable[str] | None = None,
        limit: int | None = None,
        to: str | None = None,
    ) -> RedriveResult:
        """Send failure records' bodies as new messages (to their queue or ``to``) and
        delete the records (same code path as :meth:`redrive`)."""
        return self._run_plan(self.protocol.requeue_failed(qname, ids=ids, limit=limit, to=to))

    def purge_expired(self, qname: str) -> int:
        """Drop (or dead-letter) every message older than the queue's retention."""
        return self._run_plan(self.protocol.purge_expired(qname))

    def sweep(self, qname: str) -> None:
        """Drop side data left by plain RSMQ clients' deletes/pops (a full pass)."""
        self._run_plan(self.protocol.sweep(qname))


class AsyncReliabilityMethods:
    """The coroutine mirror of :class:`ReliabilityMethods`."""

    if TYPE_CHECKING:
        protocol: Protocol

        def _run(self, call: Call[T]) -> Awaitable[T]: ...
        def _serializer(self, serializer: str | Serializer | None) -> Serializer: ...

    async def _run_plan(self, plan: CallPlan[T]) -> T:
        try:
            call = next(plan)
            while True:
                call = plan.send(await self._run(call))
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]

    async def nack(self, receipt: str | Receipt | Message, delay: float | None = None) -> float:
        """Give a received message back: receivable again after ``delay`` seconds (the
        queue's retry policy picks it from rc when ``None``). Returns the delay applied.
        Fenced like :meth:`ack` (:class:`StaleReceipt`)."""
        return await self._run(self.protocol.nack(receipt, delay))

    async def fail(
        self,
        receipt: str | Receipt | Message,
        error: BaseException | str,
        *,
        traceback: str | None = None,
    ) -> FailResult:
        """Record a failure of this delivery, then retry it by the queue's policy or,
        once it was received ``max_receives`` times, dead-letter it — atomically."""
        return await self._run(self.protocol.fail(receipt, error, traceback=traceback))

    async def failed(
        self,
        qname: str,
        *,
        offset: int = 0,
        limit: int = 20,
        exc_type: str | None = None,
        search: str | None = None,
        serializer: str | Serializer | None = None,
    ) -> Page[FailedRecord]:
        """Failure records of a queue, newest first, filtered by exception type and
        text."""
        call = self.protocol.failed(
            qname,
            self._serializer(serializer),
            offset=offset,
            limit=limit,
            exc_type=exc_type,
            search=search,
        )
        return await self._run(call)

    async def failed_record(
        self, qname: str, record_id: str, *, serializer: str | Serializer | None = None
    ) -> FailedRecord:
        """One failure record. Raises :class:`MessageNotFound` if it is gone."""
        call = self.protocol.failed(qname, self._serializer(serializer), record_id=record_id)
        return (await self._run(call)).items[0]

    async def delete_failed(self, qname: str, ids: Iterable[str] | None = None) -> int:
        """Delete failure records (all when ``ids`` is None); returns how many."""
        return await self._run(self.protocol.delete_failed(qname, ids))

    async def dead_letter_info(self, dlq: str, message_id: str) -> DeadLetterInfo | None:
        """Source queue, rc, receive times, reason and last error of a DLQ message."""
        found = await self._run(self.protocol.dead_letter_info(dlq, [message_id]))
        return found[0]

    async def redrive(
        self,
        dlq: str,
        *,
        ids: Iterable[str] | None = None,
        limit: int | None = None,
        to: str | None = None,
        default_to: str | None = None,
        reset_rc: bool = True,
    ) -> RedriveResult:
        """Move DLQ messages (all, ``ids``, or the oldest ``limit``) back to the queue
        each came from, or all to ``to``; a message with no record of where it came from
        (put there by another client) goes to ``default_to``, or stays and is reported
        in ``missing``. Each moves exactly once even under racing redrives. They start
        with a fresh receive count (``reset_rc=False`` restores it, so with an unchanged
        ``max_receives`` the next receive dead-letters them again)."""
        plan = self.protocol.redrive(
            dlq, ids=ids, limit=limit, to=to, default_to=default_to, reset_rc=reset_rc
        )
        return await self._run_plan(plan)

    async def requeue_failed(
        self,
        qname: str,
        *,
        ids: Iterable[str] | None = None,
        limit: int | None = None,
        to: str | None = None,
    ) -> RedriveResult:
        """Send failure records' bodies as new messages (to their queue or ``to``) and
        delete the records (same code path as :meth:`redrive`)."""
        plan = self.protocol.requeue_failed(qname, ids=ids, limit=limit, to=to)
        return await self._run_plan(plan)

    async def purge_expired(self, qname: str) -> int:
        """Drop (or dead-letter) every message older than the queue's retention."""
        return await self._run_plan(self.protocol.purge_expired(qname))

    async def sweep(self, qname: str) -> None:
        """Drop side data left by plain RSMQ clients' deletes/pops (a full pass)."""
        await self._run_plan(self.protocol.sweep(qname))
