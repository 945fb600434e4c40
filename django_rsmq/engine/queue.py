"""The synchronous front end: :class:`RSMQ` runs the calls :class:`Protocol` builds."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from . import durable as durable_mod
from .batch import BatchOps
from .message import Message, PeekedMessage, QueueAttributes, Receipt
from .protocol import Entry, Outcome, sorted_names
from .reliability import (
    DEDUP_WINDOW_DEFAULT,
    FAILED_CAP_DEFAULT,
    FAILED_TTL_DEFAULT,
    UNSET,
    FailResult,
    RetentionAction,
    _Unset,
)
from .reliability_methods import ReliabilityMethods
from .retry import RetryPolicy
from .serializers import Serializer
from .validation import MAXSIZE_DEFAULT

__all__ = ["RSMQ", "Queue"]


class RSMQ(BatchOps, ReliabilityMethods):
    """RSMQ operations on one Redis server and namespace.

    ``client`` is a redis-py client or a URL. ``realtime=True`` makes every send
    PUBLISH the queue's new message count on ``{ns}:rt:{qname}``, as Node ``rsmq``
    does; an iterable of queue names does so for those queues only. Long polls
    (``wait=``) of realtime queues sleep until a publish or until the next delayed or
    hidden message comes due; other queues are also re-checked every
    ``poll_interval`` seconds. ``serializer`` (name or object) is the default for
    every queue. :meth:`close` closes the long-poll pub/sub connection.
    """

    def __enter__(self) -> RSMQ:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def queue(
        self,
        qname: str,
        *,
        serializer: str | Serializer | None = None,
        realtime: bool | None = None,
    ) -> Queue:
        """A handle bound to one queue, optionally with its own serializer and realtime."""
        return Queue(self, qname, self._serializer(serializer), realtime=realtime)

    # -- queues -------------------------------------------------------------------------

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
    ) -> None:
        """Create a queue. Raises :class:`QueueExists` (writing nothing) if it exists.

        The reliability settings are described in docs/reliability.md; with
        ``max_receives`` (or ``retention_action="dead_letter"``) the dead-letter queue
        (default ``<qname>-dlq``) is created too.
        """
        call = self.protocol.create_queue(
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
        )
        self._run(call)

    def delete_queue(self, qname: str) -> None:
        """Delete a queue and all its messages. Raises :class:`QueueNotFound`."""
        self._run(self.protocol.delete_queue(qname))

    def list_queues(self) -> list[str]:
        """Names of all queues in the namespace, sorted."""
        return sorted_names(self.client.smembers(self.protocol.keys.queues))

    def get_queue_attributes(self, qname: str) -> QueueAttributes:
        return self._run(self.protocol.get_queue_attributes(qname))

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
    ) -> QueueAttributes:
        """Change vt/delay/maxsize (and ``modified``) and/or reliability settings;
        returns the new attributes. A reliability setting left out stays as it is;
        ``None`` turns it off (or back to its default)."""
        call = self.protocol.set_queue_attributes(
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
        )
        self._run(call)
        return self.get_queue_attributes(qname)

    def purge(self, qname: str) -> int:
        """Delete every message of the queue; returns how many. Attributes stay."""
        return self._run(self.protocol.purge(qname))

    # -- messages -----------------------------------------------------------------------

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
    ) -> str:
        """Send a message; returns its id. ``delay`` (seconds) overrides the queue's.

        With ``dedup_id``, a second send of the same id within the queue's
        ``dedup_window`` enqueues nothing and returns the first message's id. Raises
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
        )
        if durable:
            replicas, timeout_ms = durable_mod.check_durable(durable, durable_timeout)
            mid: str = durable_mod.run(self, call, replicas, timeout_ms)
            return mid
        return self._run(call)

    def receive(
        self,
        qname: str,
        *,
        vt: float | None = None,
        wait: float | None = None,
        serializer: str | Serializer | None = None,
        realtime: bool | None = None,
    ) -> Message | None:
        """Receive the next visible message, hiding it for ``vt`` seconds (queue default).

        ``wait`` (seconds) long-polls: returns as soon as a message is receivable, or
        ``None`` after ``wait``. See docs/long-polling.md.
        """
        found = self.receive_many(
            qname, 1, vt=vt, wait=wait, serializer=serializer, realtime=realtime
        )
        return found[0] if found else None

    def receive_many(
        self,
        qname: str,
        count: int,
        *,
        vt: float | None = None,
        wait: float | None = None,
        serializer: str | Serializer | None = None,
        realtime: bool | None = None,
    ) -> list[Message]:
        """Receive up to ``count`` (at most 1000) messages in one script call per attempt;
        with ``wait``, long-poll until at least one is receivable."""
        if not wait:
            call = self.protocol.receive(qname, self._serializer(serializer), vt=vt, count=count)
            return self._run(call)
        plan = self._plan(
            [qname], count, vt=vt, wait=wait, serializer=serializer, realtime=realtime
        )
        return self._drive(plan)

    def receive_from(
        self,
        qnames: Sequence[str],
        count: int = 1,
        *,
        vt: float | None = None,
        wait: float | None = None,
        serializer: str | Serializer | None = None,
        realtime: bool | None = None,
    ) -> list[Message]:
        """Receive up to ``count`` messages from whichever of ``qnames`` has some.

        Each call starts with the next queue in turn, so a busy queue cannot starve
        the others. With ``wait``, long-polls all of them over the one pub/sub
        connection of this RSMQ (safe from several threads at once).
        """
        plan = self._plan(qnames, count, vt=vt, wait=wait, serializer=serializer, realtime=realtime)
        return self._drive(plan)

    def pop(self, qname: str, *, serializer: str | Serializer | None = None) -> Message | None:
        """Receive and delete the next visible message (at most once)."""
        found = self._run(self.protocol.pop(qname, self._serializer(serializer)))
        return found[0] if found else None

    def delete(self, qname: str, message_id: str) -> bool:
        """Delete by bare id (RSMQ's deleteMessage): ``True`` if it was there."""
        return self._run(self.protocol.delete(qname, message_id))

    def ack(self, receipt: str | Receipt | Message) -> None:
        """Delete the message of this delivery.

        Raises :class:`StaleReceipt` if it was delivered again since, and
        :class:`MessageNotFound` if it is gone.
        """
        self._run(self.protocol.ack(receipt))

    def change_visibility(self, qname: str, message_id: str, vt: float) -> bool:
        """Make a message receivable ``vt`` seconds from now (RSMQ's changeMessageVisibility).

        ``False`` when the message does not exist.
        """
        return self._run(self.protocol.change_visibility(qname, message_id, vt))

    def change_visibility_by_receipt(self, receipt: str | Receipt | Message, vt: float) -> None:
        """Like :meth:`change_visibility`, fenced by the receipt (see :meth:`ack`)."""
        self._run(self.protocol.change_visibility_by_receipt(receipt, vt))

    def peek(
        self,
        qname: str,
        *,
        offset: int = 0,
        limit: int = 20,
        serializer: str | Serializer | None = None,
    ) -> list[PeekedMessage]:
        """Browse messages in visibility order without changing anything."""
        call = self.protocol.peek(qname, self._serializer(serializer), offset=offset, limit=limit)
        return self._run(call)

    def peek_message(
        self, qname: str, message_id: str, *, serializer: str | Serializer | None = None
    ) -> PeekedMessage:
        """One message by id, without changing it. Raises :class:`MessageNotFound`."""
        call = self.protocol.peek(qname, self._serializer(serializer), message_id=message_id)
        return self._run(call)[0]


class Queue:
    """One queue of an :class:`RSMQ`, with its own serializer (and realtime, if given)."""

    def __init__(
        self, rsmq: RSMQ, name: str, serializer: Serializer, *, realtime: bool | None = None
    ) -> None:
        self.rsmq = rsmq
        self.name = name
        self.serializer = serializer
        self.realtime = realtime

    def __repr__(self) -> str:
        return f"<Queue {self.name!r} ns={self.rsmq.namespace!r}>"

    def create(
        self, *, vt: int = 30, delay: int = 0, maxsize: int = MAXSIZE_DEFAULT, **settings: Any
    ) -> None:
        """``settings``: the reliability settings of :meth:`RSMQ.create_queue`."""
        self.rsmq.create_queue(self.name, vt=vt, delay=delay, maxsize=maxsize, **settings)

    def delete_queue(self) -> None:
        self.rsmq.delete_queue(self.name)

    def attributes(self) -> QueueAttributes:
        return self.rsmq.get_queue_attributes(self.name)

    def set_attributes(
        self,
        *,
        vt: int | None = None,
        delay: int | None = None,
        maxsize: int | None = None,
        **settings: Any,
    ) -> QueueAttributes:
        """``settings``: the reliability settings of :meth:`RSMQ.set_queue_attributes`."""
        return self.rsmq.set_queue_attributes(
            self.name, vt=vt, delay=delay, maxsize=maxsize, **settings
        )

    def purge(self) -> int:
        return self.rsmq.purge(self.name)

    def send(
        self,
        body: Any,
        *,
        delay: float | None = None,
        dedup_id: str | None = None,
        durable: int = 0,
    ) -> str:
        return self.rsmq.send(
            self.name,
            body,
            delay=delay,
            dedup_id=dedup_id,
            serializer=self.serializer,
            realtime=self.realtime,
            durable=durable,
        )

    def send_many(
        self, entries: Iterable[Any | Entry], *, delay: float | None = None
    ) -> list[Outcome[str]]:
        return self.rsmq.send_many(
            self.name, entries, delay=delay, serializer=self.serializer, realtime=self.realtime
        )

    def receive(self, *, vt: float | None = None, wait: float | None = None) -> Message | None:
        return self.rsmq.receive(
            self.name, vt=vt, wait=wait, serializer=self.serializer, realtime=self.realtime
        )

    def receive_many(
        self, count: int, *, vt: float | None = None, wait: float | None = None
    ) -> list[Message]:
        return self.rsmq.receive_many(
            self.name, count, vt=vt, wait=wait, serializer=self.serializer, realtime=self.realtime
        )

    def pop(self) -> Message | None:
        return self.rsmq.pop(self.name, serializer=self.serializer)

    def pop_many(self, count: int) -> list[Message]:
        return self.rsmq.pop_many(self.name, count, serializer=self.serializer)

    def delete(self, message_id: str) -> bool:
        return self.rsmq.delete(self.name, message_id)

    def delete_many(self, message_ids: Iterable[str]) -> list[Outcome[bool]]:
        return self.rsmq.delete_many(self.name, message_ids)

    def ack(self, receipt: str | Receipt | Message) -> None:
        self.rsmq.ack(receipt)

    def ack_many(self, receipts: Iterable[str | Receipt | Message]) -> list[Outcome[None]]:
        return self.rsmq.ack_many(receipts)

    def change_visibility(self, message_id: str, vt: float) -> bool:
        return self.rsmq.change_visibility(self.name, message_id, vt)

    def change_visibility_many(self, message_ids: Iterable[str], vt: float) -> list[Outcome[bool]]:
        return self.rsmq.change_visibility_many(self.name, message_ids, vt)

    def nack(self, receipt: str | Receipt | Message, delay: float | None = None) -> float:
        return self.rsmq.nack(receipt, delay)

    def fail(
        self,
        receipt: str | Receipt | Message,
        error: BaseException | str,
        *,
        traceback: str | None = None,
    ) -> FailResult:
        return self.rsmq.fail(receipt, error, traceback=traceback)

    def purge_expired(self) -> int:
        return self.rsmq.purge_expired(self.name)

    def peek(self, *, offset: int = 0, limit: int = 20) -> list[PeekedMessage]:
        return self.rsmq.peek(self.name, offset=offset, limit=limit, serializer=self.serializer)
