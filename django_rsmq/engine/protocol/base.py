"""Calls, batch outcomes and reply parsing shared by every operation."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .. import scripts
from ..errors import (
    InvalidValue,
    MessageNotFound,
    MessageTooLong,
    QueueExists,
    QueueNotFound,
    RSMQError,
)
from ..keys import Keys, QueueKeys
from ..validation import (
    check_qname,
)

T = TypeVar("T")

OK, EMPTY, NO_QUEUE, QUEUE_EXISTS, TOO_LONG, NO_MESSAGE, STALE = 0, 1, -1, -2, -3, -4, -5
QUEUE_FULL, DUPLICATE = -6, 2  # per-entry codes of send.lua
PEEK_MAX = 1000
BATCH_MAX = 1000
OFFSET_MAX = 2**53


@dataclass(frozen=True, slots=True)
class Entry:
    """A message for :meth:`Protocol.send_many` with its own delay (seconds),
    de-duplication id and unique key (see docs/reliability.md)."""

    body: Any
    delay: float | None = None
    dedup_id: str | None = None
    unique_key: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome(Generic[T]):
    """The result of one entry of a batch: ``value``, or ``error`` (never raised)."""

    value: T | None = None
    error: Exception | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def unwrap(self) -> T:
        """The value, or raise the entry's error."""
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]


# Key names as EVALSHA sends them (the count, then the UTF-8 names), cached: the same few
# key tuples are sent on every operation, and redis-py passes bytes through unencoded.
_WIRE_KEYS: dict[tuple[str, ...], tuple[bytes, ...]] = {}
# The packed start of an EVALSHA command (array length, SHA, key count, key names) by
# (SHA, keys, number of arguments): only the arguments are packed per call.
_HEADS: dict[tuple[bytes, tuple[str, ...], int], bytes] = {}


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """One script call. Whether it may be replayed after a lost reply is its script's
    ``replay_safe``; ``replayed`` (if set) parses the reply of such a replay, for scripts
    whose second run answers differently (a delete finds the message gone)."""

    script: scripts.Script
    keys: tuple[str, ...]
    args: tuple[str | int, ...]
    parse: Callable[[Any], T]
    replayed: Callable[[Any], T] | None = None

    @property
    def name(self) -> str:
        return self.script.name

    @property
    def replay_safe(self) -> bool:
        return self.script.replay_safe

    def parse_replayed(self, reply: Any) -> T:
        """Parse the reply of a second run (the first one's reply was lost)."""
        return (self.replayed or self.parse)(reply)

    def _wire_keys(self) -> tuple[bytes, ...]:
        try:
            return _WIRE_KEYS[self.keys]
        except KeyError:
            wire = (b"%d" % len(self.keys), *(k.encode("utf-8") for k in self.keys))
            if len(_WIRE_KEYS) >= 10_000:
                _WIRE_KEYS.clear()
            _WIRE_KEYS[self.keys] = wire
            return wire

    def evalsha(self) -> tuple[Any, ...]:
        """The EVALSHA command for redis-py's ``execute_command``."""
        return ("EVALSHA", self.script.sha_bytes, *self._wire_keys(), *self.args)

    def command(self) -> bytes:
        """The EVALSHA command packed as RESP bytes (for engine/fastpath.py)."""
        key = (self.script.sha_bytes, self.keys, len(self.args))
        try:
            head = _HEADS[key]
        except KeyError:
            parts = [b"EVALSHA", self.script.sha_bytes, *self._wire_keys()]
            head = b"*%d\r\n" % (len(parts) + len(self.args)) + b"".join(
                b"$%d\r\n%s\r\n" % (len(p), p) for p in parts
            )
            if len(_HEADS) >= 10_000:
                _HEADS.clear()
            _HEADS[key] = head
        return _pack_args(head, self.args)

    def eval_command(self) -> bytes:
        """The EVAL command (the script's source) packed as RESP bytes: after NOSCRIPT."""
        parts = [b"EVAL", self.script.source.encode("utf-8"), *self._wire_keys()]
        head = b"*%d\r\n" % (len(parts) + len(self.args)) + b"".join(
            b"$%d\r\n%s\r\n" % (len(p), p) for p in parts
        )
        return _pack_args(head, self.args)


def _pack_args(head: bytes, args: tuple[str | int, ...]) -> bytes:
    out = [head]
    for arg in args:
        if type(arg) is str:
            data = arg.encode("utf-8")
        elif type(arg) is int:
            data = b"%d" % arg
        else:
            data = _arg_bytes(arg)
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def _arg_bytes(arg: object) -> bytes:
    """A non-``str`` argument as redis-py's encoder would send it."""
    if isinstance(arg, bytes):
        return arg
    if isinstance(arg, int) and not isinstance(arg, bool):
        return b"%d" % arg
    if isinstance(arg, float):
        return repr(arg).encode("ascii")
    raise TypeError(f"a script argument must be str, bytes, int or float, not {arg!r}")


CallPlan = Generator[Call[Any], Any, T]
"""An operation that needs several script calls (paged sweeps, chunked redrives): a
generator that yields each :class:`Call` and is sent its parsed result; its return value
is the operation's. Front ends drive it (``_drive``, engine/operation.py), so the loop is
written once."""


def _single(call: Call[list[Outcome[T]]]) -> Call[T]:
    """A one-entry batch call whose parse returns the entry's value or raises its error."""
    inner, again = call.parse, call.replayed or call.parse
    return Call(
        call.script,
        call.keys,
        call.args,
        lambda reply: inner(reply)[0].unwrap(),
        lambda reply: again(reply)[0].unwrap(),
    )


def _entries(entries: Iterable[Any]) -> list[Any]:
    items = list(entries)
    if len(items) > BATCH_MAX:
        raise InvalidValue(f"at most {BATCH_MAX} entries per batch, got {len(items)}")
    return items


def to_str(value: Any) -> str:
    """A reply element as ``str`` whatever the client's ``decode_responses``."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return str(value)


def _body(value: Any) -> str | bytes:
    """A body as ``str``; bytes that are not UTF-8 are kept as bytes (decoded lazily)."""
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value
    if value is None:
        return ""
    return str(value)


def _int(value: Any, default: int = 0) -> int:
    if value is None:
        return default
    try:
        return int(float(to_str(value)))
    except ValueError:
        return default


def _seconds(value: Any) -> float:
    try:
        return float(to_str(value))
    except ValueError:
        return 0.0


def _status(reply: Any, qname: str, message_id: str = "") -> list[Any]:
    """Raise the typed error for a non-OK status, else return the reply as a list."""
    code = int(reply[0])
    if code in (OK, EMPTY):
        return list(reply)
    if code == NO_QUEUE:
        raise QueueNotFound(qname)
    if code == QUEUE_EXISTS:
        raise QueueExists(qname)
    if code == TOO_LONG:
        raise MessageTooLong(qname, int(reply[1]), int(reply[2]))
    if code == NO_MESSAGE:
        raise MessageNotFound(qname, message_id)
    raise RSMQError(f"unexpected script status {code} for queue {qname!r}")  # pragma: no cover


def _check_page(offset: object, limit: object) -> None:
    if isinstance(offset, bool) or not isinstance(offset, int) or not 0 <= offset < OFFSET_MAX:
        # Lua numbers are doubles: past 2**53 the script could not page exactly.
        raise InvalidValue(f"offset must be an int from 0 to {OFFSET_MAX - 1}, got {offset!r}")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= PEEK_MAX:
        raise InvalidValue(f"limit must be an int between 1 and {PEEK_MAX}, got {limit!r}")


def check_count(count: object, maximum: int) -> int:
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= maximum:
        raise InvalidValue(f"count must be an int between 1 and {maximum}, got {count!r}")
    return count


def sorted_names(members: Iterable[Any]) -> list[str]:
    """Names from a set reply; bytes that are no UTF-8 (a peer's) become U+FFFD, which no
    valid queue name contains, so listing never fails on them."""
    return sorted(m.decode("utf-8", "replace") if isinstance(m, bytes) else str(m) for m in members)


class ProtocolBase:
    """Namespace and options shared by the operation mixins."""

    def __init__(self, namespace: str = "rsmq", *, realtime: bool | Iterable[str] = False) -> None:
        self.keys = Keys(namespace)
        self._queue_keys: dict[str, QueueKeys] = {}
        if isinstance(realtime, bool):
            self.realtime, self.realtime_queues = realtime, frozenset[str]()
        else:
            self.realtime = False
            self.realtime_queues = frozenset(check_qname(q) for q in realtime)

    def is_realtime(self, qname: str) -> bool:
        """Whether sends to ``qname`` PUBLISH (the whole namespace, or listed queues)."""
        return self.realtime or qname in self.realtime_queues

    @property
    def publishes_moves(self) -> bool:
        """Whether dead-letter moves and redrives PUBLISH on their destination's channel.

        The destination is often chosen inside a script (a queue's DLQ, a dead letter's
        source), so with per-queue realtime they publish whenever any queue is realtime:
        a publish nobody listens to costs Redis next to nothing, a missing one leaves a
        waiting consumer of the destination to its poll interval."""
        return self.realtime or bool(self.realtime_queues)

    def _q(self, qname: str) -> QueueKeys:
        # Validated names and their keys are cached: this runs on every operation.
        try:
            return self._queue_keys[qname]
        except (KeyError, TypeError):
            q = self.keys.queue(check_qname(qname))
            if len(self._queue_keys) >= 10_000:
                self._queue_keys.clear()
            self._queue_keys[qname] = q
            return q
