"""Reliability settings of a queue and the values reliability operations return.

Settings are extra fields of the queue's RSMQ hash ``{ns}:{q}:Q`` (names below, all
starting ``ext:``). RSMQ peers read only ``vt``/``delay``/``maxsize``/counters and
message fields (32-char ids, ``{id}:rc``, ``{id}:fr``), so these never collide, and
Node's ``deleteQueue`` removes them together with the queue. ``scripts/_lib.lua``
(``CFG``) reads the same names; a test keeps the two lists in step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from typing import Any, Final, Generic, Literal, TypeVar

from .errors import InvalidValue
from .keys import QueueKeys
from .ratelimit import RATE_FIELD, RateLimit
from .retry import RetryPolicy
from .serializers import AutoSerializer, Serializer
from .validation import SECONDS_MAX, check_qname

__all__ = [
    "DEDUP_WINDOW_DEFAULT",
    "FAILED_CAP_DEFAULT",
    "FAILED_TTL_DEFAULT",
    "UNSET",
    "DeadLetterInfo",
    "FailResult",
    "FailedRecord",
    "Page",
    "RedriveResult",
    "RetentionAction",
    "default_dead_letter_queue",
]

T = TypeVar("T")
RetentionAction = Literal["drop", "dead_letter"]

DEDUP_WINDOW_DEFAULT: Final = 300.0  # seconds, like SQS FIFO
FAILED_CAP_DEFAULT: Final = 1000  # records per queue
FAILED_TTL_DEFAULT: Final = 7 * 24 * 3600.0  # seconds
FAILED_CAP_MAX: Final = 100_000  # a filtered listing walks every record in one script
DEDUP_ID_MAX: Final = 128

# Hash fields of {ns}:{q}:Q (kept in step with CFG in scripts/_lib.lua).
FIELDS: Final = {
    "max_receives": "ext:max_receives",
    "dead_letter_queue": "ext:dlq",
    "retry": "ext:retry",
    "retention": "ext:retention",
    "retention_action": "ext:retention_action",
    "max_messages": "ext:max_messages",
    "dedup_window": "ext:dedup_window",
    "failed_cap": "ext:failed_cap",
    "failed_ttl": "ext:failed_ttl",
}
DLQ_TARGET_FIELD: Final = "ext:dlq_target"  # the DLQ's key names (QueueKeys.as_target)
# The queue's side-data id, stamped into its failed-records and dedup hashes (field ""),
# so that side data left by an earlier queue of the same name is recognised as stale.
SIDE_ID_FIELD: Final = "ext:sid"
# The concurrency cap (not a CFG field: receive, pop, next_due, ack/delete, nack and fail
# read it): "<max in flight>:<the queue's realtime channel>", the channel made by keys.py,
# on which a script that frees a slot publishes so that waiting consumers look again.
CAP_FIELD: Final = "ext:cap"
MAX_IN_FLIGHT_MAX: Final = 1_000_000


class _Unset(Enum):
    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset.UNSET
"""``set_queue_attributes`` default: leave the setting as it is (``None`` turns it off)."""


def default_dead_letter_queue(qname: str) -> str:
    return f"{qname}-dlq"


def _positive_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidValue(f"{name} must be an int >= {minimum}, got {value!r}")
    return value


def _seconds(name: str, value: object, *, allow_zero: bool = True) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidValue(f"{name} must be a number of seconds, got {value!r}")
    v = float(value)
    if math.isnan(v) or v < 0 or v > SECONDS_MAX or (v == 0 and not allow_zero):
        low = "0" if allow_zero else "more than 0"
        raise InvalidValue(f"{name} must be {low} and at most {SECONDS_MAX} s, got {value!r}")
    return repr(v)


def config_pairs(q: QueueKeys, settings: dict[str, Any]) -> list[str]:
    """Validate reliability settings and turn them into ``field, value`` pairs for the
    create/set scripts (``""`` deletes the field). Absent keys / ``UNSET`` are skipped."""
    out: list[str] = []

    def put(name: str, value: str) -> None:
        out.extend((FIELDS[name], value))

    for name, value in settings.items():
        if value is UNSET:
            continue
        if name == "rate_limit":  # not a CFG field: only receive, pop and next_due read it
            out.extend((RATE_FIELD, "" if value is None else RateLimit.parse(value).to_field()))
            continue
        if name == "max_in_flight":
            if value is None:
                out.extend((CAP_FIELD, ""))
                continue
            cap = _positive_int(name, value, 1)
            if cap > MAX_IN_FLIGHT_MAX:
                raise InvalidValue(f"max_in_flight must be at most {MAX_IN_FLIGHT_MAX}, got {cap}")
            out.extend((CAP_FIELD, f"{cap}:{q.channel}"))
            continue
        if name not in FIELDS:
            raise InvalidValue(f"unknown queue attribute {name!r}")
        if name == "max_receives" or name == "max_messages":
            put(name, "" if value is None else str(_positive_int(name, value, 1)))
        elif name == "failed_cap":
            cap = _positive_int(name, value, 0)
            if cap > FAILED_CAP_MAX:
                raise InvalidValue(f"failed_cap must be at most {FAILED_CAP_MAX}, got {value!r}")
            put(name, str(cap))
        elif name == "dead_letter_queue":
            if value is None:
                put(name, "")
                out.extend((DLQ_TARGET_FIELD, ""))
                continue
            check_qname(value)
            if value == q.name:
                raise InvalidValue(f"queue {q.name!r} cannot be its own dead-letter queue")
            put(name, value)
        elif name == "retry":
            if value is not None and not isinstance(value, RetryPolicy):
                raise InvalidValue(f"retry must be a RetryPolicy or None, got {value!r}")
            put(name, "" if value is None else value.to_field())
        elif name == "retention":
            put(name, "" if value is None else _seconds(name, value))
        elif name == "retention_action":
            if value not in ("drop", "dead_letter"):
                raise InvalidValue(
                    f"retention_action must be 'drop' or 'dead_letter', not {value!r}"
                )
            put(name, value)
        elif name == "dedup_window":
            put(name, _seconds(name, value))
        elif name == "failed_ttl":
            put(name, _seconds(name, value, allow_zero=False))
    return out


def check_dedup_id(value: object) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= DEDUP_ID_MAX:
        raise InvalidValue(
            f"dedup_id must be a str of 1 to {DEDUP_ID_MAX} characters, got {value!r}"
        )
    return value


def check_unique_key(value: object) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= DEDUP_ID_MAX:
        raise InvalidValue(
            f"unique_key must be a str of 1 to {DEDUP_ID_MAX} characters, got {value!r}"
        )
    return value


@dataclass(frozen=True, slots=True)
class FailResult:
    """What :meth:`RSMQ.fail` did: ``retry_in`` seconds until the message is receivable
    again, or ``dead_lettered``, or ``discarded`` (dropped: ``then="discard"``, or
    ``then="dead_letter"`` on a queue without a DLQ); ``record_id`` of the failure
    record ("" when the queue keeps none, ``failed_cap=0``)."""

    retry_in: float | None
    dead_lettered: bool
    record_id: str
    discarded: bool = False


@dataclass(frozen=True, slots=True)
class RedriveResult:
    """``moved``: source ids moved (DLQ message ids or failed-record ids); ``missing``:
    ids that were not there any more (moved by a racing redrive, deleted), had no
    known destination or whose id the destination already holds (left in the DLQ,
    the destination's message untouched); ``message_ids``: the id of each moved
    message at its destination, in the order of ``moved``."""

    moved: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    message_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a listing: ``items`` and the ``total`` matching the filter."""

    items: list[T]
    total: int


@dataclass(frozen=True)
class FailedRecord:
    """One failure of one delivery, as stored by :meth:`RSMQ.fail`. Times in epoch ms."""

    id: str
    queue: str
    message_id: str
    raw: str | bytes
    rc: int
    exc_type: str
    error: str
    traceback: str | None
    failed_at: int
    dead_lettered: bool
    retry_in: float | None
    discarded: bool = False  # the handler discarded the message (``Discard``), or dead-
    # lettered it (``DeadLetter``) on a queue without a DLQ: it was dropped
    serializer: Serializer = field(default_factory=AutoSerializer, repr=False, compare=False)

    @cached_property
    def body(self) -> Any:
        from .message import _decode

        return _decode(self.raw, self.serializer, self.queue, self.message_id, None)


@dataclass(frozen=True, slots=True)
class DeadLetterInfo:
    """Why and from where a message came to a dead-letter queue. Times in epoch ms."""

    queue: str
    message_id: str
    rc: int
    first_received: int | None
    last_received: int | None
    dead_lettered_at: int
    reason: Literal[
        "max_receives",
        "retention",
        "failed",
        "dead_letter",  # the handler raised DeadLetter (django_rsmq/outcomes.py)
        "invalid_id",
        "malformed_rc",
        "missing_body",
        "undecodable",
    ]
    error_type: str | None
    error: str | None
    record_id: str | None
