"""Values the engine returns: messages, receipts, queue attributes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from .errors import BodyDecodeError, InvalidName
from .ratelimit import RateLimit
from .retry import RetryPolicy
from .serializers import AutoSerializer, Serializer

__all__ = ["Message", "PeekedMessage", "QueueAttributes", "Receipt", "Received", "new_message"]

MessageState = Literal["visible", "in_flight", "delayed"]


@dataclass(frozen=True, slots=True)
class Receipt:
    """Identifies one delivery of a message: ``rc`` is the fencing token.

    Its string form, ``"<queue>:<id>:<rc>"``, is what :attr:`Message.receipt` holds.
    """

    queue: str
    id: str
    rc: int

    def __str__(self) -> str:
        return f"{self.queue}:{self.id}:{self.rc}"

    @classmethod
    def parse(cls, value: str | Receipt | Message) -> Receipt:
        if isinstance(value, Receipt):
            return value
        if isinstance(value, Message):
            value = value.receipt
        if isinstance(value, str):
            queue, sep, rest = value.partition(":")
            message_id, sep2, rc = rest.rpartition(":")
            if sep and sep2 and queue and len(message_id) == 32 and rc.isascii() and rc.isdigit():
                return cls(queue, message_id, int(rc))
        raise InvalidName(f"Invalid receipt {value!r}: expected '<queue>:<32-char id>:<rc>'")


class _decoded:
    """``body``: the raw body decoded on first access, then kept in the instance's
    ``__dict__`` (``functools.cached_property`` without its lock: Python 3.11 takes an
    ``RLock`` per first access; two threads decoding at once get equal values)."""

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        value = _decode(obj.raw, obj.serializer, obj.queue, obj.id, getattr(obj, "receipt", None))
        obj.__dict__["body"] = value
        return value


def _decode(
    raw: str | bytes, serializer: Serializer, queue: str, message_id: str, receipt: str | None
) -> Any:
    if isinstance(raw, bytes):
        raise BodyDecodeError(
            "not valid UTF-8", raw, qname=queue, message_id=message_id, receipt=receipt
        )
    try:
        return serializer.loads(raw)
    except ValueError as exc:
        raise BodyDecodeError(
            f"{serializer.name} serializer: {exc}",
            raw,
            qname=queue,
            message_id=message_id,
            receipt=receipt,
        ) from exc


@dataclass(frozen=True)
class Message:
    """A received (or popped) message.

    ``body`` is decoded lazily with the queue's serializer: an undecodable body raises
    :class:`BodyDecodeError` on access, while ``raw`` always holds what Redis stored.
    Times are epoch milliseconds, like RSMQ: ``fr`` first receive, ``sent`` from the id.
    """

    queue: str
    id: str
    raw: str | bytes
    rc: int
    fr: int
    sent: float
    receipt: str
    serializer: Serializer = field(default_factory=AutoSerializer, repr=False, compare=False)

    body = _decoded()  # not a field (no annotation): see _decoded


_new = object.__new__


def new_message(
    queue: str,
    id: str,
    raw: str | bytes,
    rc: int,
    fr: int,
    sent: float,
    receipt: str,
    serializer: Serializer,
) -> Message:
    """``Message(queue, id, raw, rc, fr, sent, receipt, serializer)`` for the engine's
    receive path: the same object, without the frozen dataclass's per-field
    ``object.__setattr__`` (a receive builds one per message)."""
    m: Message = _new(Message)
    m.__dict__.update(
        queue=queue, id=id, raw=raw, rc=rc, fr=fr, sent=sent, receipt=receipt, serializer=serializer
    )
    return m


class Received(list[Message]):
    """The messages of a receive from several queues (``receive_from``): a list, plus
    ``errors``, the queues that could not be served in that call (queue name -> the
    exception: :class:`QueueNotFound` for a deleted queue, Redis' error for one that
    failed). The other queues' messages are never dropped because one queue failed; a
    call that received nothing raises the first such error instead."""

    errors: dict[str, Exception]

    def __init__(
        self, messages: Iterable[Message] = (), errors: dict[str, Exception] | None = None
    ) -> None:
        super().__init__(messages)
        self.errors = {} if errors is None else errors


@dataclass(frozen=True)
class PeekedMessage:
    """A message seen through :meth:`peek`: nothing about it was changed by looking."""

    queue: str
    id: str
    raw: str | bytes
    rc: int
    fr: int | None
    sent: float
    visible_at: int
    state: MessageState
    serializer: Serializer = field(default_factory=AutoSerializer, repr=False, compare=False)

    body = _decoded()  # not a field (no annotation): see _decoded


@dataclass(frozen=True, slots=True)
class QueueAttributes:
    """RSMQ's queue attributes plus visible / in-flight / delayed counts.

    ``vt`` and ``delay`` are seconds (float: PyRSMQ may store ``"1.5"``); ``created``
    and ``modified`` are epoch seconds; ``hiddenmsgs`` is RSMQ's figure (messages not
    receivable since the start of the current second); ``visible + in_flight + delayed
    == msgs``, and ``visible`` and ``in_flight + delayed`` are exact; the split counts
    django-rsmq's receives (a peer's receive counts as delayed until its vt passes; see
    docs/engine.md, "Cost and exactness"). ``oldest_age`` is the age in seconds of the
    message at the head of the queue, from its send time, or ``None`` when nothing is
    visible.

    The reliability settings (docs/reliability.md) follow; unset ones show their default.
    ``paused``: the queue was paused with :meth:`~django_rsmq.engine.RSMQ.pause_queue`.
    """

    vt: float
    delay: float
    maxsize: int
    totalrecv: int
    totalsent: int
    created: int
    modified: int
    msgs: int
    hiddenmsgs: int
    visible: int
    in_flight: int
    delayed: int
    oldest_age: float | None
    max_receives: int | None = None
    dead_letter_queue: str | None = None
    retry: RetryPolicy | None = None
    retention: float | None = None
    retention_action: Literal["drop", "dead_letter"] = "drop"
    max_messages: int | None = None
    dedup_window: float = 300.0
    failed_cap: int = 1000
    failed_ttl: float = 7 * 24 * 3600.0
    paused: bool = False  # pause_queue(): our receives deliver nothing (docs/engine.md)
    rate_limit: RateLimit | None = None  # message starts per period (docs/reliability.md)
    max_in_flight: int | None = None  # messages held at once, all consumers together

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}
