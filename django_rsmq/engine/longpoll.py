"""Long polling as a sans-I/O plan shared by the sync and asyncio front ends.

:func:`long_poll` is a generator that *describes* a long-polling receive and leaves
the I/O to a driver (``RSMQ`` runs it with blocking calls and its waiting threads,
``AsyncRSMQ`` with ``await``). It yields steps and is sent each step's result:

- :class:`Run` — run these calls in one round trip; the driver sends back their
  parsed results, in order (with ``errors``, a call that raised gets its exception in
  place of its result instead of the exception ending the plan).
- a :class:`~django_rsmq.engine.protocol.Call` — run this one call; the driver sends
  back its parsed result (the single queue's receive: no list around one call).
- :class:`Listen` — subscribe to these realtime channels and wait (at most
  ``timeout``) until Redis has confirmed the subscription; the driver sends back
  whether it did. Subscribing *before* the check that follows is what makes a
  publish between "queue looked empty" and "started waiting" impossible to miss.
- :class:`Sleep` — wait until a realtime message arrives on a channel of the
  :class:`Listen` (or one arrived since the last ``Sleep``), at most ``timeout``;
  the driver sends back whether the subscription is (still) confirmed, which is
  false for a while after the pub/sub connection reconnected.

Wake-up sources: the realtime PUBLISH of any RSMQ client on ``{ns}:rt:{qname}``,
and the moment the earliest delayed or hidden message becomes receivable (read
from the head of the queue's sorted set and slept until). Only when the queue is
not realtime (nobody is known to publish) or the subscription is unconfirmed does
the plan also re-check every ``poll_interval`` seconds.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from numbers import Real
from typing import Any

from redis.exceptions import ResponseError

from .errors import InvalidValue, RSMQError
from .message import Message, Received
from .protocol import Call, Protocol
from .serializers import Serializer
from .validation import SECONDS_MAX

__all__ = ["Listen", "Run", "Sleep", "Step", "check_wait", "long_poll", "sleep_for"]

# Wake this long after a message's visible_at: scores are whole ms, compared with <=.
DUE_SLACK = 0.001


@dataclass(frozen=True, slots=True)
class Run:
    calls: tuple[Call[Any], ...]
    errors: bool = False  # send back a call's exception as its value (a Run of one call)

    def __post_init__(self) -> None:
        if self.errors and len(self.calls) != 1:
            raise ValueError("Run(errors=True) takes exactly one call")


@dataclass(frozen=True, slots=True)
class Listen:
    channels: tuple[str, ...]
    timeout: float


@dataclass(frozen=True, slots=True)
class Sleep:
    timeout: float


# A bare Call is one call alone (the driver sends back its parsed result, not a list):
# the busy path's single receive skips the Run's list.
Step = Call[Any] | Run | Listen | Sleep
Plan = Generator[Step, Any, list[Message]]


def check_wait(wait: object) -> float | None:
    """``wait`` in seconds (``None`` or ``0``: don't wait)."""
    if wait is None:
        return None
    if type(wait) is float and 0 <= wait <= SECONDS_MAX:  # the common case, quickly
        return wait
    if isinstance(wait, bool) or not isinstance(wait, Real) or math.isnan(float(wait)):
        raise InvalidValue(f"wait must be a number of seconds >= 0 or None, got {wait!r}")
    if not 0 <= float(wait) <= SECONDS_MAX:
        raise InvalidValue(f"wait must be between 0 and {SECONDS_MAX} seconds, got {wait!r}")
    return float(wait)


def check_poll_interval(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not 0 < float(value) <= 3600:
        raise InvalidValue(f"poll_interval must be a number of seconds in (0, 3600], got {value!r}")
    return float(value)


def sleep_for(remaining: float, due_in: float | None, trusted: bool, poll_interval: float) -> float:
    """How long to sleep: until the deadline, the next due message, or (when nobody is
    known to publish) the next poll, whichever comes first."""
    t = remaining
    if due_in is not None:
        t = min(t, due_in + DUE_SLACK)
    if not trusted:
        t = min(t, poll_interval)
    return max(t, 0.0)


def _one_queue(exc: Exception) -> bool:
    """Whether ``exc`` concerns one queue only (deleted, unreadable, a script error on its
    data), so a receive from several goes on with the others; anything else (a connection
    or timeout error) would fail them all and ends the call."""
    return isinstance(exc, (RSMQError, ResponseError))


def long_poll(
    protocol: Protocol,
    qnames: Sequence[str],
    count: int,
    serializer: Serializer,
    *,
    vt: float | None,
    wait: float | None,
    realtime: bool,
    poll_interval: float,
    start: int = 0,
    clock: Callable[[], float] = time.monotonic,
    looked: bool = False,
) -> Plan:
    """Receive up to ``count`` messages from ``qnames``; wait up to ``wait`` seconds.

    With several queues the first queue looked at rotates with ``start``, so a busy
    queue cannot starve the others. Returns as soon as any queue had messages.

    With several queues, one that is deleted or fails never costs the others: messages
    already received from the others in that look are returned (Redis hid them and
    counted a delivery), the failed queue is left out for the rest of the call and
    reported in :attr:`Received.errors`; a call that received nothing raises the first
    such error once it is over (at once when no queue is left, or on a connection error).

    ``looked``: a single queue's receive was just made, outside the plan, and came
    back empty (the front ends' fast case, ``FrontEnd._poll``): start by waiting.
    """
    multi = len(qnames) > 1
    if multi:
        n = start % len(qnames)
        qnames = [*qnames[n:], *qnames[:n]]
    errors: dict[str, Exception] = {}  # several queues: those that failed in this call

    def receive(qname: str, n: int) -> Call[list[Message]]:
        return protocol.receive(qname, serializer, vt=vt, count=n)

    # A Call is immutable (Redis reads the clock): build the single queue's once.
    only = None if multi else receive(qnames[0], count)

    def attempt(woken: bool) -> Generator[Step, Any, tuple[list[Message], float | None]]:
        """One look: what was received, and in how many seconds a message comes due."""
        if only is not None:
            if woken:
                # Woken by a publish or a due message, the receive alone usually
                # succeeds: read the next due time only when going back to sleep.
                got = yield only
                if got:
                    return got, None
                due = yield protocol.next_due(qnames)
            else:
                # Right after subscribing the queue was just seen empty: the look and
                # the next due time in one round trip.
                got, due = yield Run((only, protocol.next_due(qnames)))
                if got:
                    return got, None
            for exc in due.errors.values():
                raise exc
            return got, due.soonest()
        (due,) = yield Run((protocol.next_due(qnames),))
        for qname, exc in due.errors.items():
            errors.setdefault(qname, exc)
        found: list[Message] = []
        soonest: float | None = None
        for qname, due_in in zip(qnames, due.due_in, strict=True):
            if due_in is None or qname in errors:
                continue
            if due_in == 0.0 and len(found) < count:
                # Exceptions as values: one queue's error must not drop what the others
                # gave in this look.
                (more,) = yield Run((receive(qname, count - len(found)),), errors=True)
                if isinstance(more, Exception):
                    errors[qname] = more
                    if not _one_queue(more):
                        break
                    continue
                found += more
            soonest = due_in if soonest is None else min(soonest, due_in)
        return found, soonest

    def stuck() -> bool:
        """Nothing left to wait for: every queue failed, or the connection did."""
        return len(errors) == len(qnames) or not all(map(_one_queue, errors.values()))

    def result(got: list[Message]) -> list[Message]:
        if not multi:
            return list(got)
        if not got and errors:
            fatal = [e for e in errors.values() if not _one_queue(e)]
            raise (fatal or list(errors.values()))[0]
        return Received(got, dict(errors))

    if only is not None:
        # The common, busy case: one call, no subscription.
        if not looked:
            got = yield only
            if got or not wait:
                return list(got)
        elif not wait:
            return []
    else:
        got, _ = yield from attempt(False)
        if got or not wait or stuck():
            return result(got)
    assert wait is not None
    deadline = clock() + wait
    channels = tuple(protocol.keys.queue(q).channel for q in qnames)
    # Unconfirmed after a poll interval (pub/sub trouble): go on, polling meanwhile.
    confirmed = yield Listen(channels, min(wait, poll_interval))
    woken = False
    while True:
        got, soonest = yield from attempt(woken)
        woken = True
        if got or stuck():
            return result(got)
        remaining = deadline - clock()
        if remaining <= 0:
            return result([])
        if soonest == 0.0:
            continue  # came due between the two reads: look again at once
        t = sleep_for(remaining, soonest, realtime and bool(confirmed), poll_interval)
        confirmed = yield Sleep(t)
