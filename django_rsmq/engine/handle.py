"""The queue handles' operations (``rsmq.queue(name)``), defined once for
:class:`~django_rsmq.engine.Queue` and :class:`~django_rsmq.engine.aio.AsyncQueue`:
each is the front end's operation with the queue's name, serializer and realtime."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .batch import BatchOps
from .message import Message, PeekedMessage, QueueAttributes, Receipt
from .operation import Steps, Work, operation
from .operations import MessageOps
from .protocol import Call, Entry, Outcome
from .reliability import FailResult
from .reliability_methods import ReliabilityOps
from .serializers import Serializer
from .validation import MAXSIZE_DEFAULT

__all__ = ["Handles", "QueueOps"]

H = TypeVar("H")

M = MessageOps
B = BatchOps
R = ReliabilityOps


class Handles(Generic[H]):
    """``rsmq.queue(name)``: a front end's handles (its ``_handle`` makes one)."""

    if TYPE_CHECKING:

        def _serializer(self, serializer: str | Serializer | None) -> Serializer: ...

    def _handle(self, qname: str, serializer: Serializer, realtime: bool | None) -> H:
        raise NotImplementedError

    def queue(
        self,
        qname: str,
        *,
        serializer: str | Serializer | None = None,
        realtime: bool | None = None,
    ) -> H:
        """A handle bound to one queue, optionally with its own serializer and realtime."""
        return self._handle(qname, self._serializer(serializer), realtime)


class QueueOps:
    def __init__(
        self, rsmq: Any, name: str, serializer: Serializer, *, realtime: bool | None = None
    ) -> None:
        self.rsmq: Any = rsmq  # the front end (Queue and AsyncQueue say which)
        self.name = name
        self.serializer = serializer
        self.realtime = realtime

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} ns={self.rsmq.namespace!r}>"

    # The front end's I/O: a blocking call, or an awaitable on the asyncio front end.
    def _run(self, call: Call[Any]) -> Any:
        return self.rsmq._run(call)

    def _drive(self, plan: Steps[Any]) -> Any:
        return self.rsmq._drive(plan)

    @operation
    def create(
        self, /, *, vt: int = 30, delay: int = 0, maxsize: int = MAXSIZE_DEFAULT, **settings: Any
    ) -> Work[None]:
        """``settings``: the reliability settings of :meth:`RSMQ.create_queue`."""
        return M.create_queue.fn(
            self.rsmq, self.name, vt=vt, delay=delay, maxsize=maxsize, **settings
        )

    @operation
    def delete_queue(self) -> Work[None]:
        return M.delete_queue.fn(self.rsmq, self.name)

    @operation
    def attributes(self) -> Work[QueueAttributes]:
        return M.get_queue_attributes.fn(self.rsmq, self.name)

    @operation
    def set_attributes(
        self,
        /,
        *,
        vt: int | None = None,
        delay: int | None = None,
        maxsize: int | None = None,
        **settings: Any,
    ) -> Work[QueueAttributes]:
        """``settings``: the reliability settings of :meth:`RSMQ.set_queue_attributes`."""
        return M.set_queue_attributes.fn(
            self.rsmq, self.name, vt=vt, delay=delay, maxsize=maxsize, **settings
        )

    @operation
    def purge(self, *, chunk: int | None = None) -> Work[int]:
        return M.purge.fn(self.rsmq, self.name, chunk=chunk)

    @operation
    def pause(self) -> Work[bool]:
        return M.pause_queue.fn(self.rsmq, self.name)

    @operation
    def resume(self) -> Work[bool]:
        return M.resume_queue.fn(self.rsmq, self.name)

    def _send(
        self, body: Any, delay: float | None, dedup_id: str | None, durable: int
    ) -> Work[str]:
        return M.send.fn(
            self.rsmq,
            self.name,
            body,
            delay=delay,
            dedup_id=dedup_id,
            serializer=self.serializer,
            realtime=self.realtime,
            durable=durable,
        )

    @operation
    def send_many(
        self, entries: Iterable[Any | Entry], *, delay: float | None = None
    ) -> Work[list[Outcome[str]]]:
        return B.send_many.fn(
            self.rsmq,
            self.name,
            entries,
            delay=delay,
            serializer=self.serializer,
            realtime=self.realtime,
        )

    @operation
    def receive(
        self, *, vt: float | None = None, wait: float | None = None
    ) -> Work[Message | None]:
        return M.receive.fn(
            self.rsmq,
            self.name,
            vt=vt,
            wait=wait,
            serializer=self.serializer,
            realtime=self.realtime,
        )

    @operation
    def receive_many(
        self, count: int, *, vt: float | None = None, wait: float | None = None
    ) -> Work[list[Message]]:
        return M.receive_many.fn(
            self.rsmq,
            self.name,
            count,
            vt=vt,
            wait=wait,
            serializer=self.serializer,
            realtime=self.realtime,
        )

    @operation
    def pop(self) -> Work[Message | None]:
        return M.pop.fn(self.rsmq, self.name, serializer=self.serializer)

    @operation
    def pop_many(self, count: int) -> Work[list[Message]]:
        return B.pop_many.fn(self.rsmq, self.name, count, serializer=self.serializer)

    @operation
    def delete(self, message_id: str) -> Work[bool]:
        return M.delete.fn(self.rsmq, self.name, message_id)

    @operation
    def delete_many(self, message_ids: Iterable[str]) -> Work[list[Outcome[bool]]]:
        return B.delete_many.fn(self.rsmq, self.name, message_ids)

    @operation
    def ack(self, receipt: str | Receipt | Message) -> Work[None]:
        return M.ack.fn(self.rsmq, receipt)

    @operation
    def ack_many(self, receipts: Iterable[str | Receipt | Message]) -> Work[list[Outcome[None]]]:
        return B.ack_many.fn(self.rsmq, receipts)

    @operation
    def change_visibility(self, message_id: str, vt: float) -> Work[bool]:
        return M.change_visibility.fn(self.rsmq, self.name, message_id, vt)

    @operation
    def change_visibility_many(
        self, message_ids: Iterable[str], vt: float
    ) -> Work[list[Outcome[bool]]]:
        return B.change_visibility_many.fn(self.rsmq, self.name, message_ids, vt)

    @operation
    def nack(self, receipt: str | Receipt | Message, delay: float | None = None) -> Work[float]:
        return R.nack.fn(self.rsmq, receipt, delay)

    @operation
    def fail(
        self,
        receipt: str | Receipt | Message,
        error: BaseException | str,
        *,
        traceback: str | None = None,
    ) -> Work[FailResult]:
        return R.fail.fn(self.rsmq, receipt, error, traceback=traceback)

    @operation
    def purge_expired(self) -> Work[int]:
        return R.purge_expired.fn(self.rsmq, self.name)

    @operation
    def peek(self, *, offset: int = 0, limit: int = 20) -> Work[list[PeekedMessage]]:
        return M.peek.fn(
            self.rsmq, self.name, offset=offset, limit=limit, serializer=self.serializer
        )
