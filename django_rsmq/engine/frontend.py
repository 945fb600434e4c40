"""What the sync and asyncio front ends share besides the protocol: configuration,
the long-poll plan for a call, and putting per-queue batch results back in input order."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from .errors import InvalidValue, RSMQError
from .longpoll import Plan, check_poll_interval, check_wait, long_poll
from .message import Message, Receipt
from .protocol import BATCH_MAX, Call, Outcome, Protocol
from .protocol.base import check_count
from .serializers import Serializer, get_serializer
from .validation import check_duration, check_qname

__all__ = ["FrontEnd", "ReceiptBatch"]

T = TypeVar("T")


class ReceiptBatch:
    """Receipts of any queues → one call per queue, results back in input order.

    A malformed receipt gets its error outcome without stopping the others.
    """

    def __init__(
        self,
        receipts: Iterable[str | Receipt | Message],
        build: Callable[[list[Receipt]], dict[str, Call[list[Outcome[T]]]]],
    ) -> None:
        items = list(receipts)
        if len(items) > BATCH_MAX:
            raise InvalidValue(f"at most {BATCH_MAX} entries per batch, got {len(items)}")
        self.slots: list[Outcome[Any] | tuple[str, int]] = []
        valid: list[Receipt] = []
        counts: dict[str, int] = {}
        for item in items:
            try:
                rcpt = Receipt.parse(item)
                check_qname(rcpt.queue)
            except RSMQError as exc:
                self.slots.append(Outcome(error=exc))
                continue
            n = counts.get(rcpt.queue, 0)
            counts[rcpt.queue] = n + 1
            self.slots.append((rcpt.queue, n))
            valid.append(rcpt)
        grouped = build(valid) if valid else {}
        self.names = list(grouped)
        self.calls: tuple[Call[list[Outcome[T]]], ...] = tuple(grouped.values())

    def merge(self, results: Sequence[list[Outcome[T]]]) -> list[Outcome[T]]:
        per_queue = dict(zip(self.names, results, strict=True))
        return [s if isinstance(s, Outcome) else per_queue[s[0]][s[1]] for s in self.slots]


class FrontEnd:
    """Configuration shared by :class:`~django_rsmq.engine.RSMQ` and
    :class:`~django_rsmq.engine.aio.AsyncRSMQ` (no I/O here)."""

    def __init__(
        self,
        *,
        namespace: str,
        realtime: bool | Iterable[str],
        serializer: str | Serializer | None,
        poll_interval: float,
    ) -> None:
        self.protocol = Protocol(namespace, realtime=realtime)
        self.serializer = get_serializer(serializer)
        self.poll_interval = check_poll_interval(poll_interval)
        self._rotation = itertools.count()

    @property
    def namespace(self) -> str:
        return self.protocol.keys.namespace

    def _serializer(self, serializer: str | Serializer | None) -> Serializer:
        return self.serializer if serializer is None else get_serializer(serializer)

    def is_realtime(self, qname: str) -> bool:
        """Whether sends to ``qname`` PUBLISH, and long polls trust that they do."""
        return self.protocol.is_realtime(qname)

    def _plan(
        self,
        qnames: Sequence[str],
        count: int,
        *,
        vt: float | None,
        wait: float | None,
        serializer: str | Serializer | None,
        realtime: bool | None,
    ) -> Plan:
        if isinstance(qnames, str):
            raise InvalidValue("qnames must be a sequence of queue names, not one str")
        names = list(dict.fromkeys(check_qname(q) for q in qnames))
        if not names:
            raise InvalidValue("qnames must name at least one queue")
        check_count(count, BATCH_MAX)
        if vt is not None:
            check_duration("vt", vt)
        trusted = all(self.is_realtime(q) for q in names) if realtime is None else realtime
        return long_poll(
            self.protocol,
            names,
            count,
            self._serializer(serializer),
            vt=vt,
            wait=check_wait(wait),
            realtime=trusted,
            poll_interval=self.poll_interval,
            start=next(self._rotation),
        )

    def _ack_batch(self, receipts: Iterable[str | Receipt | Message]) -> ReceiptBatch:
        return ReceiptBatch(receipts, self.protocol.ack_many)

    def _visibility_batch(
        self, receipts: Iterable[str | Receipt | Message], vt: float
    ) -> ReceiptBatch:
        check_duration("vt", vt)
        return ReceiptBatch(
            receipts, lambda valid: self.protocol.change_visibility_by_receipt_many(valid, vt)
        )
