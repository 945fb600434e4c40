"""The queue and message operations of both front ends, each defined once.

Each returns the work to do (engine/operation.py): :class:`~django_rsmq.engine.RSMQ`
runs it with blocking calls, :class:`~django_rsmq.engine.aio.AsyncRSMQ` awaits it.
The batch operations are in engine/batch.py, the reliability ones in
engine/reliability_methods.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import durable as durable_mod
from .frontend import FrontEnd
from .message import Message, PeekedMessage, QueueAttributes, Receipt
from .operation import Command, Durable, Otherwise, Steps, Then, Work, operation, steps
from .protocol import Call, sorted_names
from .ratelimit import RateLimit
from .reliability import (
    DEDUP_WINDOW_DEFAULT,
    FAILED_CAP_DEFAULT,
    FAILED_TTL_DEFAULT,
    UNSET,
    RetentionAction,
    _Unset,
)
from .retry import RetryPolicy
from .serializers import Serializer
from .validation import MAXSIZE_DEFAULT

__all__ = ["MessageOps"]


class MessageOps(FrontEnd[Any]):
    """Queues and messages (docs/engine.md)."""

    # -- queues -------------------------------------------------------------------------

    @operation
    def create_queue(
        self,
        qname: str,
        *,
        vt: int = 30,
        delay: int = 0,
        maxsize: int = MAXSIZE_DEFAULT,
        max_receives: int | None = None,
        dead_letter_queue: str | None = None,
        retry: RetryPolicy | None = None,
        retention: float | None = None,
        retention_action: RetentionAction = "drop",
        max_messages: int | None = None,
        dedup_window: float = DEDUP_WINDOW_DEFAULT,
        failed_cap: int = FAILED_CAP_DEFAULT,
        failed_ttl: float = FAILED_TTL_DEFAULT,
        rate_limit: RateLimit | str | None = None,
        max_in_flight: int | None = None,
    ) -> Work[None]:
        """Create a queue. Raises :class:`QueueExists` (writing nothing) if it exists.

        The reliability settings are described in docs/reliability.md; with
        ``max_receives`` (or ``retention_action="dead_letter"``) the dead-letter queue
        (default ``<qname>-dlq``) is created too.
        """
        return self.protocol.create_queue(
            qname,
            vt=vt,
            delay=delay,
            maxsize=maxsize,
            max_receives=max_receives,
            dead_letter_queue=dead_letter_queue,
            retry=retry,
            retention=retention,
            retention_action=retention_action,
            max_messages=max_messages,
            dedup_window=dedup_window,
            failed_cap=failed_cap,
            failed_ttl=failed_ttl,
            rate_limit=rate_limit,
            max_in_flight=max_in_flight,
        )

    @operation
    def delete_queue(self, qname: str) -> Work[None]:
        """Delete a queue and all its messages. Raises :class:`QueueNotFound`."""
        return self.protocol.delete_queue(qname)

    @operation
    def list_queues(self) -> Steps[list[str]]:
        """Names of all queues in the namespace, sorted."""
        return sorted_names((yield Command(("SMEMBERS", self.protocol.keys.queues))))

    @operation
    def get_queue_attributes(self, qname: str) -> Work[QueueAttributes]:
        return self.protocol.get_queue_attributes(qname)

    @operation
    def set_queue_attributes(
        self,
        qname: str,
        *,
        vt: int | None = None,
        delay: int | None = None,
        maxsize: int | None = None,
        max_receives: int | _Unset | None = UNSET,
        dead_letter_queue: str | _Unset | None = UNSET,
        retry: RetryPolicy | _Unset | None = UNSET,
        retention: float | _Unset | None = UNSET,
        retention_action: RetentionAction | _Unset | None = UNSET,
        max_messages: int | _Unset | None = UNSET,
        dedup_window: float | _Unset | None = UNSET,
        failed_cap: int | _Unset | None = UNSET,
        failed_ttl: float | _Unset | None = UNSET,
        rate_limit: RateLimit | str | _Unset | None = UNSET,
        max_in_flight: int | _Unset | None = UNSET,
    ) -> Steps[QueueAttributes]:
        """Change vt/delay/maxsize (and ``modified``) and/or reliability settings;
        returns the new attributes. A reliability setting left out stays as it is;
        ``None`` turns it off (or back to its default)."""
        yield self.protocol.set_queue_attributes(
            qname,
            vt=vt,
            delay=delay,
            maxsize=maxsize,
            max_receives=max_receives,
            dead_letter_queue=dead_letter_queue,
            retry=retry,
            retention=retention,
            retention_action=retention_action,
            max_messages=max_messages,
            dedup_window=dedup_window,
            failed_cap=failed_cap,
            failed_ttl=failed_ttl,
            rate_limit=rate_limit,
            max_in_flight=max_in_flight,
        )
        attributes: QueueAttributes = yield self.protocol.get_queue_attributes(qname)
        return attributes

    @operation
    def purge(self, qname: str, *, chunk: int | None = None) -> Steps[int]:
        """Delete every message of the queue; returns how many. Attributes stay.

        Without ``chunk`` one script deletes the whole queue (it blocks Redis for as
        long: about 1.8 s for 50k messages). With ``chunk`` (1 to 1000) each call
        deletes at most that many from the head, and the calls repeat until the queue
        is empty, or until as many messages as the queue held at the start are gone (so
        a producer cannot keep it running). Each call leaves a consistent queue; after
        a crash, purging again finishes the job."""
        if chunk is None:
            return (yield self.protocol.purge(qname))  # type: ignore[no-any-return]
        removed, remaining = yield self.protocol.purge_chunk(qname, chunk)
        total, goal = removed, removed + remaining
        while remaining and total < goal:
            removed, remaining = yield self.protocol.purge_chunk(qname, min(chunk, goal - total))
            total += removed
        return total  # type: ignore[no-any-return]

    @operation
    def pause_queue(self, qname: str) -> Work[bool]:
        """Pause the queue: our receives and pops deliver nothing from it (long polls
        wait) until :meth:`resume_queue`; sends go on. The state is in Redis (the queue
        hash's ``ext:paused``), so it survives restarts and holds for every consumer;
        plain RSMQ clients ignore it. Returns whether the queue was running."""
        return self.protocol.pause(qname, True)

    @operation
    def resume_queue(self, qname: str) -> Work[bool]:
        """Resume a paused queue and wake the long polls waiting on it (a realtime
        notification). Returns whether the queue was paused."""
        return self.protocol.pause(qname, False)

    # -- messages -----------------------------------------------------------------------

    @operation
    def send(
        self,
        qname: str,
        body: Any,
        *,
        delay: float | None = None,
        dedup_id: str | None = None,
        serializer: str | Serializer | None = None,
        realtime: bool | None = None,
        durable: int = 0,
        durable_timeout: float | None = None,
        unique_key: str | None = None,
    ) -> Work[str]:
        """Send a message; returns its id. ``delay`` (seconds) overrides the queue's.

        With ``dedup_id``, a second send of the same id within the queue's
        ``dedup_window`` enqueues nothing and returns the first message's id. With
        ``unique_key``, a send while a message sent with that key is still in the queue
        (waiting, delayed or in flight) enqueues nothing and returns that message's id;
        the key is free again once the message is acked, deleted or dead-lettered. Raises
        :class:`QueueFull` when the queue holds ``max_messages`` already.
        ``realtime`` overrides the instance's setting for this send.

        ``durable=N``: acknowledged only once ``N`` replicas have it (``WAIT`` in the
        same round trip, at most ``durable_timeout`` seconds, default 1); else
        :class:`SendNotConfirmed` (the message may exist: see docs/deployment.md).
        """
        call = self.protocol.send(
            qname,
            body,
            self._serializer(serializer),
            delay=delay,
            realtime=realtime,
            dedup_id=dedup_id,
            unique_key=unique_key,
        )
        if durable:
            replicas, timeout_ms = durable_mod.check_durable(durable, durable_timeout)
            return _one(Durable(call, replicas, timeout_ms))
        return call

    @operation
    def receive(
        self,
        qname: str,
        *,
        vt: float | None = None,
        wait: float | None = None,
        serializer: str | Serializer | None = None,
        realtime: bool | None = None,
    ) -> Work[Message | None]:
        """Receive the next visible message, hiding it for ``vt`` seconds (queue default).

        ``wait`` (seconds) long-polls: returns as soon as a message is receivable, or
        ``None`` after ``wait``. See docs/long-polling.md.
        """
        work = MessageOps.receive_many.fn(
            self, qname, 1, vt=vt, wait=wait, serializer=serializer, realtime=realtime
        )
        if isinstance(work, Call):
            return Then(work, first_or_none)
        if isinstance(work, Otherwise):
            return Otherwise(work.call, first_or_none, work.rest)
        return _first_of(work)

    @operation
    def receive_many(
        self,
        qname: str,
        count: int,
        *,
        vt: float | None = None,
        wait: float | None = None,
        serializer: str | Serializer | None = None,
        realtime: bool | None = None,
    ) -> Work[list[Message]]:
        """Receive up to ``count`` (at most 1000) messages in one script call per attempt;
        with ``wait``, long-poll until at least one is receivable."""
        if not wait:
            return self.protocol.receive(qname, self._serializer(serializer), vt=vt, count=count)
        return self._poll(qname, count, vt=vt, wait=wait, serializer=serializer, realtime=realtime)

    @operation
    def receive_from(
        self,
        qnames: Sequence[str],
        count: int = 1,
        *,
        vt: float | None = None,
        wait: float | None = None,
        serializer: str | Serializer | None = None,
        realtime: bool | None = None,
        rotate: bool = True,
    ) -> Work[list[Message]]:
        """Receive up to ``count`` messages from whichever of ``qnames`` has some.

        Each call starts with the next queue in turn, so a busy queue cannot starve
        the others. ``rotate=False``: the queues are looked at in the order given
        (the caller's priorities: the first queue's messages are taken first, the
        next queue's fill what is left of ``count``). With ``wait``, long-polls all of
        them over the one pub/sub connection of this RSMQ (safe from several threads
        at once).
        """
        if type(qnames) is list and len(qnames) == 1:  # the consumer's usual call
            return self._poll(
                qnames[0], count, vt=vt, wait=wait, serializer=serializer, realtime=realtime
            )
        return self._plan(
            qnames,
            count,
            vt=vt,
            wait=wait,
            serializer=serializer,
            realtime=realtime,
            rotate=rotate,
        )

    @operation
    def pop(
        self, qname: str, *, serializer: str | Serializer | None = None
    ) -> Work[Message | None]:
        """Receive and delete the next visible message (at most once)."""
        return Then(self.protocol.pop(qname, self._serializer(serializer)), first_or_none)

    @operation
    def delete(self, qname: str, message_id: str) -> Work[bool]:
        """Delete by bare id (RSMQ's deleteMessage): ``True`` if it was there."""
        return self.protocol.delete(qname, message_id)

    @operation
    def ack(self, receipt: str | Receipt | Message) -> Work[None]:
        """Delete the message of this delivery.

        Raises :class:`StaleReceipt` if it was delivered again since, and
        :class:`MessageNotFound` if it is gone.
        """
        return self.protocol.ack(receipt)

    @operation
    def change_visibility(self, qname: str, message_id: str, vt: float) -> Work[bool]:
        """Make a message receivable ``vt`` seconds from now (RSMQ's changeMessageVisibility).

        ``False`` when the message does not exist.
        """
        return self.protocol.change_visibility(qname, message_id, vt)

    @operation
    def change_visibility_by_receipt(
        self, receipt: str | Receipt | Message, vt: float
    ) -> Work[None]:
        """Like :meth:`change_visibility`, fenced by the receipt (see :meth:`ack`)."""
        return self.protocol.change_visibility_by_receipt(receipt, vt)

    @operation
    def peek(
        self,
        qname: str,
        *,
        offset: int = 0,
        limit: int = 20,
        serializer: str | Serializer | None = None,
    ) -> Work[list[PeekedMessage]]:
        """Browse messages in visibility order without changing anything."""
        return self.protocol.peek(qname, self._serializer(serializer), offset=offset, limit=limit)

    @operation
    def peek_message(
        self, qname: str, message_id: str, *, serializer: str | Serializer | None = None
    ) -> Steps[PeekedMessage]:
        """One message by id, without changing it. Raises :class:`MessageNotFound`."""
        found = yield self.protocol.peek(qname, self._serializer(serializer), message_id=message_id)
        return found[0]  # type: ignore[no-any-return]


def _one(step: Any) -> Steps[Any]:
    return (yield step)


def first_or_none(found: list[Message]) -> Message | None:
    return found[0] if found else None


def _first_of(work: Work[list[Message]]) -> Steps[Message | None]:
    return first_or_none((yield from steps(work)))
