"""What the sync and asyncio front ends share besides the protocol: configuration,
the long-poll plan for a call, and putting per-queue batch results back in input order."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Generator, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from redis.exceptions import NoScriptError

from .errors import InvalidValue, ReplyLost, RSMQError
from .fastpath import Unanswered
from .longpoll import Listen, Plan, Run, Sleep, check_poll_interval, check_wait, long_poll
from .message import Message, Receipt
from .operation import Command, Durable, Otherwise, Stepper
from .protocol import BATCH_MAX, Call, Outcome, Protocol
from .protocol.base import check_count
from .serializers import Serializer, get_serializer
from .validation import check_duration, check_qname

__all__ = ["FrontEnd", "ReceiptBatch", "Replay", "check_replayable", "eval_args", "parse_replies"]

T = TypeVar("T")
ClientT = TypeVar("ClientT")


def eval_args(call: Call[Any]) -> tuple[Any, ...]:
    """The EVAL command (the script's source) for redis-py: after NOSCRIPT."""
    return ("EVAL", call.script.source, len(call.keys), *call.keys, *call.args)


def check_replayable(calls: Sequence[Call[Any]], lost: Unanswered) -> int:
    """After a pipeline's replies were lost: how many calls were answered; raises
    :class:`ReplyLost` if one of the others (which may have run) is not replay-safe."""
    done = len(lost.replies)
    for c in calls[done:]:
        if not c.replay_safe:
            raise ReplyLost(c.name, str(lost.error)) from lost.error
    return done


@dataclass(frozen=True, slots=True)
class Replay:
    """Run ``call`` on redis-py's path (EVAL on NOSCRIPT), send back its reply parsed
    as a replay's."""

    call: Call[Any]


def parse_replies(
    calls: Sequence[Call[Any]], replies: Sequence[Any], replayed_from: int
) -> Generator[Call[Any] | Replay, Any, list[Any]]:
    """Parse a pipeline's replies in order (those from ``replayed_from`` on are
    replays'). A call that got NOSCRIPT did not run: it is yielded to be run again (a
    :class:`Replay` if it is past ``replayed_from``) and is sent its parsed result."""
    out = []
    for i, (c, reply) in enumerate(zip(calls, replies, strict=True)):
        if isinstance(reply, NoScriptError):
            out.append((yield Replay(c) if i >= replayed_from else c))
            continue
        if isinstance(reply, Exception):
            raise reply
        out.append(c.parse_replayed(reply) if i >= replayed_from else c.parse(reply))
    return out


def _parse_receipt(value: str | Receipt | Message) -> tuple[str, str, int]:
    """``(queue, id, rc)`` of a receipt, as :meth:`Receipt.parse` reads it."""
    if type(value) is str:  # the common case, without building a Receipt
        queue, sep, rest = value.partition(":")
        message_id, sep2, rc = rest.rpartition(":")
        if sep and sep2 and queue and len(message_id) == 32 and rc.isascii() and rc.isdigit():
            return queue, message_id, int(rc)
    rcpt = Receipt.parse(value)
    return rcpt.queue, rcpt.id, rcpt.rc


class ReceiptBatch:
    """Receipts of any queues → one call per queue, results back in input order.

    ``build(qname, targets)`` makes one queue's call over its ``(id, rc)`` targets.
    A malformed receipt gets its error outcome without stopping the others.
    """

    def __init__(
        self,
        receipts: Iterable[str | Receipt | Message],
        build: Callable[[str, list[tuple[str, int | None] | Exception]], Call[list[Outcome[T]]]],
    ) -> None:
        items = list(receipts)
        if len(items) > BATCH_MAX:
            raise InvalidValue(f"at most {BATCH_MAX} entries per batch, got {len(items)}")
        self.slots: list[Outcome[Any] | tuple[str, int]] = []
        groups: dict[str, list[tuple[str, int | None] | Exception]] = {}
        for item in items:
            try:
                if isinstance(item, Message):
                    item = item.receipt
                queue, message_id, rc = _parse_receipt(item)
                targets = groups.get(queue)
                if targets is None:
                    check_qname(queue)  # once per valid queue and batch
                    targets = groups[queue] = []
            except RSMQError as exc:
                self.slots.append(Outcome(error=exc))
                continue
            self.slots.append((queue, len(targets)))
            targets.append((message_id, rc))
        self.names = list(groups)
        self.calls: tuple[Call[list[Outcome[T]]], ...] = tuple(
            build(qname, targets) for qname, targets in groups.items()
        )

    def merge(self, results: Sequence[list[Outcome[T]]]) -> list[Outcome[T]]:
        per_queue = dict(zip(self.names, results, strict=True))
        return [s if isinstance(s, Outcome) else per_queue[s[0]][s[1]] for s in self.slots]


class FrontEnd(Generic[ClientT]):
    """Configuration shared by :class:`~django_rsmq.engine.RSMQ` and
    :class:`~django_rsmq.engine.aio.AsyncRSMQ` (no I/O here)."""

    client: ClientT

    if TYPE_CHECKING:  # the front end's I/O (blocking, or coroutines on asyncio)

        def _run(self, call: Call[Any]) -> Any: ...
        def _run_calls(self, calls: Sequence[Call[Any]]) -> Any: ...
        def _run_or_error(self, calls: Sequence[Call[Any]]) -> Any: ...
        def _replay(self, call: Call[Any]) -> Any: ...
        def _durable(self, step: Durable) -> Any: ...
        def _listen(self) -> Any: ...

    def __init__(
        self,
        client: ClientT | str | None = None,
        *,
        namespace: str = "rsmq",
        realtime: bool | Iterable[str] = False,
        serializer: str | Serializer | None = None,
        poll_interval: float = 1.0,
    ) -> None:
        self.protocol = Protocol(namespace, realtime=realtime)
        self.serializer = get_serializer(serializer)
        self.poll_interval = check_poll_interval(poll_interval)
        self._rotation = itertools.count()
        self.client = self._connect(client)

    def _connect(self, client: ClientT | str | None) -> ClientT:
        """The front end's client for ``client`` (a client, a URL or None), set up."""
        raise NotImplementedError

    def _perform(self, step: Any, stepper: Stepper[Any]) -> Any:
        """Start one step of an operation (engine/operation.py): its result, or on the
        asyncio front end an awaitable of it (every method called here is a coroutine
        there). The drivers (``_drive`` of the runners) send it back in."""
        if isinstance(step, Call):
            return self._run(step)
        if isinstance(step, Run):
            return self._run_or_error(step.calls) if step.errors else self._run_calls(step.calls)
        if isinstance(step, Listen):
            stepper.watch = self._listen().watch(step.channels)
            return stepper.watch.ready(step.timeout)
        if isinstance(step, Sleep):
            assert stepper.watch is not None
            return stepper.watch.wait(step.timeout)
        if isinstance(step, Replay):
            return self._replay(step.call)
        if isinstance(step, Durable):
            return self._durable(step)
        assert isinstance(step, Command)
        return self.client.execute_command(*step.args)  # type: ignore[attr-defined]

    @property
    def namespace(self) -> str:
        return self.protocol.keys.namespace

    def _serializer(self, serializer: str | Serializer | None) -> Serializer:
        return self.serializer if serializer is None else get_serializer(serializer)

    def is_realtime(self, qname: str) -> bool:
        """Whether sends to ``qname`` PUBLISH, and long polls trust that they do."""
        return self.protocol.is_realtime(qname)

    def _poll(
        self,
        qname: str,
        count: int,
        *,
        vt: float | None,
        wait: float | None,
        serializer: str | Serializer | None,
        realtime: bool | None,
    ) -> Call[list[Message]] | Otherwise[list[Message], list[Message]]:
        """One queue's receive that may long-poll: the receive alone first; the
        long-poll plan is built (and subscribes) only if it came back empty."""
        call = self.protocol.receive(qname, self._serializer(serializer), vt=vt, count=count)
        if not check_wait(wait):
            return call

        def rest() -> Plan:
            return self._plan(
                [qname],
                count,
                vt=vt,
                wait=wait,
                serializer=serializer,
                realtime=realtime,
                looked=True,
            )

        return Otherwise(call, list, rest)

    def _plan(
        self,
        qnames: Sequence[str],
        count: int,
        *,
        vt: float | None,
        wait: float | None,
        serializer: str | Serializer | None,
        realtime: bool | None,
        looked: bool = False,
        rotate: bool = True,
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
            start=next(self._rotation) if rotate else 0,
            looked=looked,
        )

    def _ack_batch(self, receipts: Iterable[str | Receipt | Message]) -> ReceiptBatch:
        return ReceiptBatch(receipts, self.protocol.ack_group)

    def _visibility_batch(
        self, receipts: Iterable[str | Receipt | Message], vt: float
    ) -> ReceiptBatch:
        check_duration("vt", vt)
        return ReceiptBatch(
            receipts, lambda qname, targets: self.protocol.visibility_group(qname, targets, vt)
        )
